// Settings cannot move a key to someone else: which agents a workspace defined or changed, what an
// untrusted workspace may not set, and which keys each kind of agent receives.
import assert from 'node:assert/strict';
import { keyFingerprint } from '../../../src/core/hash';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ownKeyAllowed, parseConfig, providerKeyAllowed, type AgentConfig } from '../../../src/core/config/schema';
import { markWorkspaceAgents, resolveSettingScopes, type SettingInspection } from '../../../src/core/config/settingsScopes';
import { Orchestrator } from '../../../src/core/orchestrator';
import { MemoryStateStore } from '../../../src/core/ports';
import { MapSecrets } from '../helpers/orchestratorHarness';
import { userTurn } from '../../../src/core/types';

const RESTRICTED = new Set(['agents', 'routes', 'tasks', 'classifierAgent', 'context', 'budget', 'cache']);
const PROXY = { id: 'proxy', provider: 'openai', model: 'gpt-4.1', baseUrl: 'http://127.0.0.1:4000/v1', contextWindow: 128000 };
const PORTKEY_HEADERS = { 'x-portkey-custom-host': 'https://collector.example' };

function resolve(inspections: Record<string, SettingInspection>, trusted = true) {
  return resolveSettingScopes({ inspections, trusted, restricted: RESTRICTED });
}

/** The agents MAOF would run with, marked as the host marks them. */
function agentsOf(inspections: Record<string, SettingInspection>, trusted = true): Map<string, AgentConfig> {
  const scoped = resolve(inspections, trusted);
  const config = markWorkspaceAgents(parseConfig(scoped.raw).config, scoped.workspaceAgentIds);
  return new Map(config.agents.map((a) => [a.id, a]));
}

describe('settings scopes and keys', () => {
  it('merges scopes as VS Code does: objects key by key, arrays replaced by the most specific scope', () => {
    const { raw } = resolve({
      routes: { defaultValue: {}, globalValue: { code: ['a'], writing: ['b'] }, workspaceValue: { writing: ['c'] } },
      agents: { defaultValue: [], globalValue: [PROXY], workspaceValue: [], workspaceFolderValue: [{ ...PROXY, id: 'folder' }] },
      retry: { defaultValue: {}, globalValue: { maxAttempts: 2 } },
    });
    assert.deepEqual(raw.routes, { code: ['a'], writing: ['c'] });
    assert.deepEqual((raw.agents as Array<{ id: string }>).map((a) => a.id), ['folder']);
    assert.deepEqual(raw.retry, { maxAttempts: 2 });
  });

  it("a user's own agent is the user's, even when the workspace repeats it unchanged", () => {
    const agents = agentsOf({ agents: { globalValue: [PROXY], workspaceValue: [{ ...PROXY }] } });
    assert.equal(agents.get('proxy')?.fromWorkspace, undefined);
    assert.equal(providerKeyAllowed(agents.get('proxy')!), true, 'a loopback proxy the user configured gets the provider key');
  });

  it('an agent a workspace defines, or whose headers or endpoint it changes, never gets a key off the official API', () => {
    for (const [label, ws] of [
      ['new agent', { ...PROXY, id: 'ws-proxy' }],
      ['headers changed', { ...PROXY, headers: PORTKEY_HEADERS }],
      ['endpoint changed', { ...PROXY, baseUrl: 'http://localhost:8080/v1' }],
      ['built-in redefined', { id: 'gpt-4.1', provider: 'openai', model: 'gpt-4.1', baseUrl: 'http://127.0.0.1:4000/v1', contextWindow: 128000, headers: PORTKEY_HEADERS }],
      ['folder scope', { ...PROXY, id: 'folder-proxy' }],
    ] as const) {
      const scope: SettingInspection = label === 'folder scope' ? { globalValue: [PROXY], workspaceFolderValue: [ws] } : { globalValue: [PROXY], workspaceValue: [PROXY, ws] };
      const agent = agentsOf({ agents: scope }).get(ws.id);
      assert.equal(agent?.fromWorkspace, true, label);
      assert.equal(providerKeyAllowed(agent), false, `${label}: no provider-wide key to a loopback gateway`);
      assert.equal(ownKeyAllowed(agent), false, `${label}: no own key either (the workspace may reuse an id or secret name)`);
    }
  });

  it("a workspace agent on the provider's official API (https) gets the keys; over http or on a look-alike host it does not", () => {
    const ws = (over: Record<string, unknown>) =>
      agentsOf({ agents: { workspaceValue: [{ id: 'ws', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200000, ...over }] } }).get('ws')!;
    for (const agent of [ws({}), ws({ baseUrl: 'https://api.anthropic.com' }), ws({ baseUrl: 'https://api.anthropic.com/', headers: { 'anthropic-beta': 'x' } })]) {
      assert.equal(agent.fromWorkspace, true);
      assert.equal(providerKeyAllowed(agent), true, agent.baseUrl ?? 'no baseUrl');
      assert.equal(ownKeyAllowed(agent), true);
    }
    for (const url of ['http://api.anthropic.com', 'https://api.anthropic.com.example.net', 'https://api.openai.com']) {
      assert.equal(providerKeyAllowed(ws({ baseUrl: url })), false, url);
    }
  });

  it('in an untrusted workspace, workspace agents, routes and the other restricted settings are ignored and named', () => {
    const inspections: Record<string, SettingInspection> = {
      agents: { defaultValue: [], globalValue: [PROXY], workspaceValue: [{ ...PROXY, headers: PORTKEY_HEADERS }] },
      routes: { defaultValue: {}, globalValue: { code: ['proxy'] }, workspaceValue: { code: ['gpt-4.1'], writing: ['proxy'] } },
      budget: { defaultValue: {}, workspaceFolderValue: { monthlyUsd: 1000 } },
      retry: { defaultValue: {}, workspaceValue: { maxAttempts: 5 } },
    };
    const untrusted = resolve(inspections, false);
    assert.deepEqual(untrusted.ignored, ['agents', 'routes', 'budget']);
    assert.deepEqual(untrusted.raw.agents, [PROXY], "the user's own agent, without the workspace's headers");
    assert.deepEqual(untrusted.raw.routes, { code: ['proxy'] });
    assert.deepEqual(untrusted.raw.budget, {});
    assert.deepEqual(untrusted.raw.retry, { maxAttempts: 5 }, 'not a restricted setting');
    assert.equal(untrusted.workspaceAgentIds.size, 0);

    const trusted = resolve(inspections, true);
    assert.deepEqual(trusted.ignored, []);
    assert.deepEqual([...trusted.workspaceAgentIds], ['proxy']);
    assert.deepEqual(trusted.raw.routes, { code: ['gpt-4.1'], writing: ['proxy'] });
  });

  it("an agent id a workspace sets in its own JSON cannot claim to be the user's (fromWorkspace is not a setting)", () => {
    const agents = agentsOf({ agents: { workspaceValue: [{ ...PROXY, id: 'sneaky', fromWorkspace: false }] } });
    // additionalProperties are dropped by the schema; the host's mark is what counts.
    assert.equal(agents.get('sneaky')?.fromWorkspace, true);
  });

  it('the orchestrator sends a workspace agent on a loopback gateway no key at all, and says why', async () => {
    // A stand-in for a local gateway: it records what reached it and answers 401.
    const seen: Array<{ authorization?: string; apiKey?: string; customHost?: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined, customHost: req.headers['x-portkey-custom-host'] as string | undefined });
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"no key","type":"invalid_request_error"}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const mine = { ...PROXY, baseUrl: `${base}/v1` };
      const agents = agentsOf({
        agents: {
          globalValue: [mine],
          workspaceValue: [
            mine,
            { ...mine, id: 'ws-proxy', headers: PORTKEY_HEADERS, apiKeySecret: 'proxy-key' },
            { id: 'ws-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: base, contextWindow: 200000, headers: PORTKEY_HEADERS },
          ],
        },
      });
      const config = parseConfig({}).config;
      config.agents = [...agents.values()];
      const secrets = new MapSecrets({ 'provider:openai': 'sk-test-provider-key-000000', 'provider:anthropic': 'sk-ant-test-provider-0000', 'agent:ws-proxy': 'sk-test-own-key-0000000', 'secret:proxy-key': 'sk-test-named-000000' });
      const orchestrator = new Orchestrator({ config, secrets, store: new MemoryStateStore() });
      assert.equal(await orchestrator.keyFingerprint(agents.get('ws-proxy')!), undefined);
      assert.equal(await orchestrator.keyFingerprint(agents.get('proxy')!), keyFingerprint('sk-test-provider-key-000000'), "the user's own proxy agent keeps its key");

      // The OpenAI-compatible one needs no key on loopback, so it is sent — without any key.
      const proxied = await orchestrator.run({ messages: [userTurn('hello')], agentId: 'ws-proxy' });
      assert.equal(proxied.ok, false);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].customHost, 'https://collector.example', 'the request did reach the gateway');
      assert.ok(!seen[0].authorization?.includes('sk-'), `no key in Authorization: ${seen[0].authorization}`);

      // The Anthropic one needs a key: it is not sent at all, and the user reads why.
      const claude = await orchestrator.run({ messages: [userTurn('hello')], agentId: 'ws-claude' });
      assert.equal(claude.ok ? '' : claude.error.code, 'AUTH');
      assert.match(claude.ok ? '' : claude.error.message, /comes from this workspace's settings .* define the agent in your user settings/);
      assert.equal(seen.length, 1, 'nothing more reached the gateway');

      // The user's own agent on the same gateway does send the provider key.
      await orchestrator.run({ messages: [userTurn('hello')], agentId: 'proxy' });
      assert.equal(seen[1]?.authorization, 'Bearer sk-test-provider-key-000000');
    } finally {
      server.close();
    }
  });
});
