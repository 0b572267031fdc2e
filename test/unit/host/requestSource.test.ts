// Who asked a MAOF model decides the ledger's source (spend by source), and which of VS Code's
// Chat settings MAOF offers when.
import * as assert from 'node:assert/strict';
import { isChatQuestion, needsAnonymousAccess, requestInitiatorOf, requestSourceOf, REQUEST_SOURCES } from '../../../src/host/languageModels/requestSource';

describe('the source of a request to a MAOF model', () => {
  it('is "VS Code utility" for the utility model asked by the Chat\'s utility flows or another extension', () => {
    assert.equal(requestSourceOf('utility', 'github.copilot-chat'), 'VS Code utility');
    assert.equal(requestSourceOf('utility', undefined), 'VS Code utility');
  });

  it('is "MCP sampling" when the workbench itself sends it (VS Code 1.139 passes "core"), whichever model', () => {
    assert.equal(requestSourceOf('auto', 'core'), 'MCP sampling');
    assert.equal(requestSourceOf('utility', 'core'), 'MCP sampling', 'maof/utility allowed for sampling');
    assert.equal(requestSourceOf('agent:claude-haiku', requestInitiatorOf({ requestInitiator: 'core', modelOptions: {} })), 'MCP sampling');
  });

  it('is the Language Model API for the Chat\'s questions and other extensions, or when VS Code says nothing', () => {
    assert.equal(requestSourceOf('auto', 'github.copilot-chat'), 'VS Code Language Model API');
    assert.equal(requestSourceOf('code', 'saoudrizwan.claude-dev'), 'VS Code Language Model API');
    assert.equal(requestSourceOf('code', requestInitiatorOf({})), 'VS Code Language Model API');
    assert.equal(requestInitiatorOf({ requestInitiator: 42 }), undefined);
    assert.equal(requestInitiatorOf(undefined), undefined);
  });
});

describe('when MAOF offers VS Code\'s Chat settings', () => {
  it('offers the utility models for a question in the Chat or to @maof, not for background work or another extension', () => {
    assert.ok(isChatQuestion({ source: REQUEST_SOURCES.languageModelApi, initiator: 'github.copilot-chat' }));
    assert.ok(isChatQuestion({ source: REQUEST_SOURCES.participant }));
    assert.ok(!isChatQuestion({ source: REQUEST_SOURCES.utility, initiator: 'github.copilot-chat' }));
    assert.ok(!isChatQuestion({ source: REQUEST_SOURCES.sampling, initiator: 'core' }));
    assert.ok(!isChatQuestion({ source: REQUEST_SOURCES.languageModelApi, initiator: 'rooveterinaryinc.roo-cline' }));
  });

  it('offers anonymous access only while it is unset and no Copilot model is there (no sign-in) but MAOF\'s are', () => {
    assert.ok(needsAnonymousAccess(false, ['maof']));
    assert.ok(!needsAnonymousAccess(true, ['maof']), 'already set, either way');
    assert.ok(!needsAnonymousAccess(false, ['maof', 'copilot']), 'signed in to Copilot');
    assert.ok(!needsAnonymousAccess(false, []), 'MAOF\'s models not registered yet');
  });
});
