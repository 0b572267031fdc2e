// Issue 18 against servers we did not write: the built `maof` CLI through the Portkey gateway (which
// holds the upstream connection itself) in front of our simulator going quiet, and against
// @dwmkerr/mock-llm streaming slowly (its chunkIntervalMs, the only delay it has: it cannot stall).
// Failover tests set a 2 s cold-start deadline to stay quick; the first test and the "must not be
// cut" tests run with the default deadlines.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProviderSimulator, type SimulatorAddress } from '../../src/simulator/providerSimulator';
import { startMockLlm, startPortkey, type ForeignServer } from './support/foreignServers';
import { jsonLines, runCli, writeJson, type JsonAnswer } from './support/cli';

const chat = `{"id":"chatcmpl-{{timestamp}}","object":"chat.completion","model":"{{jmes request body.model}}","choices":[{"index":0,"message":{"role":"assistant","content":"Mock says: {{jmes request body.messages[-1].content}}"},"finish_reason":"stop"}]}`;
const rules = (chunkSize: number, chunkIntervalMs: number): unknown => ({
  streaming: { chunkSize, chunkIntervalMs },
  rules: [{ path: '/v1/chat/completions', method: 'POST', match: '@', response: { status: 200, content: chat } }],
});

describe('Conformance: deadlines and out of credit, through Portkey and against mock-llm', function () {
  this.timeout(120_000);
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  let mock: ForeignServer;
  let slow: ForeignServer;
  let gateway: ForeignServer;
  let dir: string;
  /** Default deadlines. */
  let defaults: string;
  /** A 2 s cold-start and idle deadline: the failover tests. */
  let short: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'maof-conformance-deadlines-'));
    [addr, mock, slow, gateway] = await Promise.all([
      sim.start(),
      startMockLlm(path.join(dir, 'mock-llm.json'), rules(12, 1)),
      // A chunk of 4 characters every 1.5 s: "Mock says: " and a 25-character prompt take 15 s.
      startMockLlm(path.join(dir, 'mock-llm-slow.json'), rules(4, 1_500)),
      startPortkey(),
    ]);
    const via = (provider: 'openai' | 'anthropic', target: string): Record<string, string> => ({ 'x-portkey-provider': provider, 'x-portkey-custom-host': target });
    // Default timeoutMs (120 s): only the deadlines under test end an attempt early.
    const agents = [
      { id: 'gw-openai', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${gateway.baseUrl}/v1`, contextWindow: 128_000, maxOutputTokens: 256, headers: via('openai', addr.openaiBaseUrl) },
      { id: 'gw-anthropic', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: gateway.baseUrl, contextWindow: 128_000, maxOutputTokens: 256, headers: via('anthropic', `${addr.anthropicBaseUrl}/v1`) },
      { id: 'mock', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${mock.baseUrl}/v1`, requiresKey: false, contextWindow: 128_000, maxOutputTokens: 256 },
      { id: 'mock-slow', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${slow.baseUrl}/v1`, requiresKey: false, contextWindow: 128_000, maxOutputTokens: 256 },
    ];
    const base = { agents, routes: { code: ['gw-openai', 'mock'], writing: ['gw-anthropic', 'mock'], analysis: ['gw-openai'], slow: ['mock-slow', 'mock'] }, tasks: { slow: { description: 'slow' } }, cache: { enabled: false } };
    defaults = writeJson(path.join(dir, 'defaults.json'), base);
    short = writeJson(path.join(dir, 'short.json'), { ...base, deadlines: { firstTokenMs: 2_000, idleMs: 2_000 } });
  });
  after(async () => {
    await Promise.all([sim.stop(), mock?.stop(), slow?.stop(), gateway?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => sim.reset());

  async function askJson(config: string, args: string[]): Promise<{ answer: JsonAnswer; ms: number }> {
    const started = Date.now();
    const r = await runCli(['ask', '--json', '--config', config, ...args], dir);
    const [answer] = jsonLines(r.stdout);
    assert.ok(answer, `no JSON answer; stderr:\n${r.stderr}`);
    return { answer, ms: Date.now() - started };
  }

  const outcomes = (a: JsonAnswer): string[] => a.attempts.map((t) => `${t.agent}:${t.outcome}`);

  it('default settings: Portkey holding a request the upstream never answers — the fallback answers within 15 s', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'hang' } }]);
    const { answer, ms } = await askJson(defaults, ['--task', 'code', 'hello']);
    assert.equal(answer.ok, true, JSON.stringify(answer));
    assert.equal(answer.agent, 'mock');
    assert.deepEqual(outcomes(answer), ['gw-openai:STALLED', 'mock:ok']);
    assert.ok(ms <= 15_000, `answered after ${ms} ms`);
  });

  for (const [provider, task, primary] of [
    ['openai', 'code', 'gw-openai'],
    ['anthropic', 'writing', 'gw-anthropic'],
  ] as const) {
    it(`${provider} format through Portkey: opening events and pings, then nothing → the fallback answers at the deadline`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 0, pingEveryMs: 300 } }]);
      const { answer, ms } = await askJson(short, ['--task', task, 'hello']);
      assert.equal(answer.agent, 'mock', JSON.stringify(answer));
      assert.deepEqual(outcomes(answer), [`${primary}:STALLED`, 'mock:ok']);
      assert.ok(ms < 8_000, `answered after ${ms} ms`);
    });

    it(`${provider} format through Portkey: silent after two chunks → the fallback's answer, for --json and for a streamed ask to a pipe (nothing was shown yet)`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 2 } }]);
      const { answer } = await askJson(short, ['--task', task, 'hello [[words:30]]']);
      assert.equal(answer.agent, 'mock', JSON.stringify(answer));
      assert.deepEqual(outcomes(answer), [`${primary}:STALLED`, 'mock:ok']);

      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 2 } }]);
      const streamed = await runCli(['ask', '--config', short, '--task', task, 'hello [[words:30]]'], dir);
      assert.equal(streamed.code, 0, streamed.stderr);
      // A pipe gets the final answer alone, so the two chunks never reached it: the fallback's answer, once.
      assert.equal(streamed.stdout, 'Mock says: hello [[words:30]]\n');
      assert.match(streamed.stderr, /\[maof\] mock · .* · 2 attempts/);
    });

    it(`${provider} out of credit through Portkey → falls back at once, naming billing; not asked again`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'out_of_credit' }, times: 5 }]);
      const { answer } = await askJson(short, ['--task', task, 'hello']);
      assert.equal(answer.agent, 'mock', JSON.stringify(answer));
      assert.deepEqual(outcomes(answer), [`${primary}:OUT_OF_CREDIT`, 'mock:ok']);
      const again = await askJson(short, ['--task', task, 'hello again']);
      assert.equal(again.answer.agent, 'mock');
      assert.equal(sim.tally().requests, 1, 'the agent out of credit was not asked again');
      const alone = await runCli(['ask', '--config', short, '--agent', primary, '--json', 'hello'], dir);
      const [failed] = jsonLines(alone.stdout);
      assert.equal(failed.ok, false);
      assert.equal(failed.error?.code, 'OUT_OF_CREDIT');
      assert.match(failed.error?.message ?? '', /out of credit.*billing/);
      await runCli(['breakers', 'reset', primary, '--config', short], dir);
    });
  }

  it('default settings, not cut: the only agent silent 20 s before a live answer (through Portkey), and a mock-llm stream of a chunk every 1.5 s for 15 s', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'delay', ms: 20_000 } }]);
    const [only, slowly] = await Promise.all([askJson(defaults, ['--task', 'analysis', 'hello']), askJson(defaults, ['--task', 'slow', 'slow but live, keep going'])]);
    assert.equal(only.answer.ok, true, JSON.stringify(only.answer));
    assert.deepEqual(outcomes(only.answer), ['gw-openai:ok']);
    assert.ok(only.ms >= 20_000);
    assert.equal(slowly.answer.ok, true, JSON.stringify(slowly.answer));
    assert.equal(slowly.answer.text, 'Mock says: slow but live, keep going');
    assert.deepEqual(outcomes(slowly.answer), ['mock-slow:ok'], 'neither cut nor retried');
    assert.ok(slowly.ms >= 14_000, `the slow stream took ${slowly.ms} ms`);
  });
});
