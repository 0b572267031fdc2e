import * as assert from 'node:assert/strict';
import { parseConfig, type AgentConfig } from '../../../src/core/config/schema';
import { keyStatus } from '../../../src/host/platform/keyNames';
import type { ChatAgentInfo } from '../../../src/shared/chatProtocol';
import { agentNote, agentSuffix } from '../../../src/webview/chat/agentNote';

function agent(fields: Record<string, unknown>): AgentConfig {
  const { config, issues } = parseConfig({ agents: [{ contextWindow: 128000, pricing: { inputPerMTok: 0, outputPerMTok: 0 }, ...fields }] });
  assert.deepEqual(issues, []);
  const found = config.agents.find((a) => a.id === fields.id);
  assert.ok(found);
  return found;
}

function info(id: string, key: ChatAgentInfo['key'], breaker: ChatAgentInfo['breaker'] = 'closed'): ChatAgentInfo {
  return { id, label: id, provider: 'openai', model: 'm', breaker, key };
}

describe('key status of an agent (chat selector, pickers, walkthrough)', () => {
  const builtIn = parseConfig({}).config.agents.find((a) => a.id === 'claude-sonnet');
  const deep = agent({ id: 'deep', provider: 'anthropic', model: 'claude-sonnet-5-5', baseUrl: 'http://127.0.0.1:8787', requiresKey: false });
  const local = agent({ id: 'local', provider: 'openai', model: 'llama3.1', baseUrl: 'http://127.0.0.1:11434/v1' });
  const router = agent({ id: 'router', provider: 'openai', model: 'x', baseUrl: 'https://openrouter.ai/api/v1' });

  it('a built-in agent without a key is missing one, with a key has one', () => {
    assert.ok(builtIn);
    assert.equal(keyStatus(builtIn, false), 'missing');
    assert.equal(keyStatus(builtIn, true), 'set');
  });

  it('an agent that needs no key (requiresKey: false, or a local OpenAI-compatible server) is not missing one', () => {
    assert.equal(keyStatus(deep, false), 'not-needed');
    assert.equal(keyStatus(local, false), 'not-needed');
    assert.equal(keyStatus(router, false), 'missing', 'a remote endpoint needs a key');
    assert.equal(keyStatus(agent({ id: 'strict', provider: 'openai', model: 'x', baseUrl: 'http://127.0.0.1:1/v1', requiresKey: true }), false), 'missing');
  });

  it('the selector says "no key" only for agents that are missing one', () => {
    assert.equal(agentSuffix(info('deep', 'not-needed')), '');
    assert.equal(agentSuffix(info('gpt', 'missing')), ' — no key');
    assert.equal(agentSuffix(info('gpt', 'set', 'open')), ' — breaker open');
  });

  it('Auto raises "No API key is set" only when no agent can be asked', () => {
    const missing = [info('a', 'missing'), info('b', 'missing')];
    assert.equal(agentNote(missing, 'auto')?.text, 'No API key is set for any agent.');
    assert.equal(agentNote(missing, 'auto')?.action?.action, 'setApiKey');
    assert.equal(agentNote([...missing, info('deep', 'not-needed')], 'auto'), undefined);
    assert.equal(agentNote([...missing, info('c', 'set')], 'auto'), undefined);
  });

  it('a picked agent that needs no key gets no note; one missing a key does', () => {
    const agents = [info('deep', 'not-needed'), info('gpt', 'missing')];
    assert.equal(agentNote(agents, 'deep'), undefined);
    assert.match(agentNote(agents, 'gpt')?.text ?? '', /No API key for gpt/);
  });
});
