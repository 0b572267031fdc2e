// Smoke test: the extension under development is present in the extension host and activates.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const extensionId = 'maof.maof';

describe('activation', () => {
  it('finds the MAOF extension and activates it', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, `extension ${extensionId} is not loaded in the extension host`);
    // activationEvents may be empty while features land: activate explicitly.
    await ext.activate();
    assert.equal(ext.isActive, true, `${extensionId} did not become active`);
  });
});
