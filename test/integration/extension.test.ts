// The extension as VS Code loads it: activation returns the API, every command the manifest
// contributes is registered, and the log is one channel that scrubs keys.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, maofApi } from './helpers';

interface ManifestCommand {
  command: string;
  title: string;
  category?: string;
}

describe('extension', () => {
  it('activates and hands tests its services and orchestrator', async () => {
    const api = await maofApi();
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
    assert.ok(api.services.keys, 'services.keys');
    assert.equal(typeof api.orchestrator.run, 'function');
    assert.ok(api.services.config().agents.length >= 4, 'the built-in agents are configured');
    assert.ok(api.recentLogLines().some((l) => l.includes('MAOF started')), 'the start is logged');
  });

  it('activates from a small entry point and loads the rest apart', async () => {
    await maofApi();
    const dist = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist');
    const entry = fs.readFileSync(path.join(dist, 'extension.js'), 'utf8');
    // What VS Code loads at activation: the placeholders, not zod, the schema or the features.
    assert.ok(entry.length < 20_000, `dist/extension.js is ${entry.length} bytes`);
    assert.ok(!entry.includes('chunks/zod'), 'the entry point does not load zod');
    assert.ok(fs.existsSync(path.join(dist, 'host.js')), 'the host proper is built apart');
  });

  it('registers every command it contributes, each with its real handler, all in the MAOF category', async () => {
    const api = await maofApi();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: ManifestCommand[] } };
    const contributed = manifest.contributes.commands;
    assert.ok(contributed.length >= 16);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c.command)).map((c) => c.command);
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
    // VS Code sees a placeholder for every manifest command from activation on; what matters is
    // that each one reaches a real handler of the host.
    const handled = new Set<string>(api.services.registry.handledCommands());
    const placeholdersOnly = contributed.filter((c) => !handled.has(c.command)).map((c) => c.command);
    assert.deepEqual(placeholdersOnly, [], `commands with no real handler: ${placeholdersOnly.join(', ')}`);
    for (const c of contributed) assert.equal(c.category, 'MAOF', `${c.command} has the MAOF category`);
  });

  it('scrubs a known key from the log even when code tries to log it', async () => {
    const api = await maofApi();
    const key = 'plainlookingsecret-8d1f0c2b9e';
    await api.services.extensionContext.secrets.store('maof.apiKey.agent.log-probe', key);
    try {
      // Reading the key is what makes it "known" to the logger.
      assert.equal(await (api.services.keys as unknown as { get(n: string): Promise<string | undefined> }).get('agent:log-probe'), key);
      api.services.logger.warn(`probe: the key is ${key}`);
      const line = api.recentLogLines().find((l) => l.includes('probe: the key is'));
      assert.ok(line, 'the probe line was logged');
      assert.ok(!line.includes(key), `the key leaked into the log: ${line}`);
    } finally {
      await api.services.extensionContext.secrets.delete('maof.apiKey.agent.log-probe');
    }
  });
});
