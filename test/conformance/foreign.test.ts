// Conformance against software this project did not write (issue 10 §5): the built `maof` CLI
// against @dwmkerr/mock-llm (an OpenAI-compatible mock server) and the Portkey AI gateway (in front
// of mock-llm and of our simulator), all from the npm registry, all on 127.0.0.1 ephemeral ports.
// Each test names what it proves that the simulator alone cannot (docs/TESTING.md has the table).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProviderSimulator, type SimulatorAddress } from '../../src/simulator/providerSimulator';
import { startMockLlm, startPortkey, type ForeignServer } from './support/foreignServers';
import { jsonLines, runCli, writeJson, type JsonAnswer } from './support/cli';

/** An OpenAI error body as mock-llm's own README writes them. */
const openaiError = (message: string, type: string, code: string | null): string => JSON.stringify({ error: { message, type, param: null, code } });
const chat = (content: string, finish = 'stop'): string =>
  `{"id":"chatcmpl-{{timestamp}}","object":"chat.completion","model":"{{jmes request body.model}}","choices":[{"index":0,"message":{"role":"assistant","content":${content}},"finish_reason":"${finish}"}]}`;
const when = (word: string): string => `contains(body.messages[-1].content, '${word}')`;

/** mock-llm rules: the last matching rule wins, so the echo comes first. No rule sends `usage`. */
const MOCK_RULES = {
  streaming: { chunkSize: 12, chunkIntervalMs: 1 },
  rules: [
    { path: '/v1/chat/completions', method: 'POST', match: '@', response: { status: 200, content: chat('"Mock says: {{jmes request body.messages[-1].content}}"') } },
    {
      path: '/v1/chat/completions',
      method: 'POST',
      match: "body.model == 'no-such-model'",
      response: { status: 404, content: openaiError('The model `no-such-model` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found') },
    },
    { path: '/v1/chat/completions', method: 'POST', match: when('ERR-KEY'), response: { status: 401, content: openaiError('Incorrect API key provided: sk-***.', 'invalid_request_error', 'invalid_api_key') } },
    { path: '/v1/chat/completions', method: 'POST', match: when('ERR-OVERLOADED'), response: { status: 503, content: openaiError('The engine is currently overloaded, please try again later.', 'server_error', null) } },
    { path: '/v1/chat/completions', method: 'POST', match: when('ERR-RATE'), response: { status: 429, content: openaiError('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded') } },
    { path: '/v1/chat/completions', method: 'POST', match: when('EMPTY-CHOICES'), response: { status: 200, content: '{"id":"x","object":"chat.completion","model":"m","choices":[]}' } },
    { path: '/v1/chat/completions', method: 'POST', match: when('EMPTY-TEXT'), response: { status: 200, content: chat('""') } },
    { path: '/v1/chat/completions', method: 'POST', match: when('FILTERED'), response: { status: 200, content: chat('null', 'content_filter') } },
  ],
};

describe('Conformance: the built CLI against servers we did not write (mock-llm, Portkey gateway)', function () {
  this.timeout(120_000);
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  let mock: ForeignServer;
  let gateway: ForeignServer;
  let dir: string;
  let config: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'maof-conformance-'));
    [addr, mock, gateway] = await Promise.all([sim.start(), startMockLlm(path.join(dir, 'mock-llm.json'), MOCK_RULES), startPortkey()]);
    const viaGateway = (provider: 'openai' | 'anthropic', target: string): Record<string, string> => ({ 'x-portkey-provider': provider, 'x-portkey-custom-host': target });
    const agent = (id: string, extra: Record<string, unknown>): Record<string, unknown> => ({ id, contextWindow: 128_000, maxOutputTokens: 256, timeoutMs: 10_000, ...extra });
    config = writeJson(path.join(dir, 'config.json'), {
      agents: [
        // mock-llm straight: a keyless OpenAI-compatible local server.
        agent('mock', { provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${mock.baseUrl}/v1`, requiresKey: false }),
        agent('mock-missing', { provider: 'openai', model: 'no-such-model', baseUrl: `${mock.baseUrl}/v1`, requiresKey: false }),
        agent('mock-wrong-path', { provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${mock.baseUrl}/v2`, requiresKey: false }),
        // Through Portkey: to our simulator in each wire format, and to mock-llm.
        agent('gw-openai', { provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${gateway.baseUrl}/v1`, headers: viaGateway('openai', addr.openaiBaseUrl) }),
        agent('gw-anthropic', { provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: gateway.baseUrl, headers: viaGateway('anthropic', `${addr.anthropicBaseUrl}/v1`) }),
        agent('gw-anthropic-keyless', { provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: gateway.baseUrl, requiresKey: false, headers: viaGateway('anthropic', `${addr.anthropicBaseUrl}/v1`) }),
        agent('gw-mock', { provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${gateway.baseUrl}/v1`, requiresKey: false, headers: viaGateway('openai', `${mock.baseUrl}/v1`) }),
      ],
      routes: { code: ['gw-openai', 'mock'], writing: ['gw-anthropic', 'gw-mock'], analysis: ['mock-missing', 'gw-openai'] },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 20_000, maxRetryAfterMs: 5_000 },
      breaker: { failureThreshold: 50, resetTimeoutMs: 60_000 },
      cache: { enabled: false },
    });
  });
  after(async () => {
    await Promise.all([sim.stop(), mock?.stop(), gateway?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => sim.reset());

  async function askJson(args: string[], keys = true): Promise<JsonAnswer> {
    const r = await runCli(['ask', '--json', '--config', config, ...args], dir, { keys });
    const [answer] = jsonLines(r.stdout);
    assert.ok(answer, `no JSON answer; stderr:\n${r.stderr}`);
    assert.equal(r.code, answer.ok ? 0 : 1);
    return answer;
  }

  /** Plain (streaming) ask: stdout is a pipe, so it holds the final answer only. */
  async function askStream(args: string[], keys = true): Promise<{ code: number | null; text: string; stderr: string }> {
    const r = await runCli(['ask', '--config', config, ...args], dir, { keys });
    return { code: r.code, text: r.stdout.replace(/\n$/, ''), stderr: r.stderr };
  }

  describe('ask, streamed and not, in both wire formats', () => {
    it('mock-llm direct (keyless, no usage): answers; the cost is estimated and marked', async () => {
      const a = await askJson(['--agent', 'mock', 'hello from maof'], false);
      assert.equal(a.ok, true, JSON.stringify(a));
      assert.equal(a.text, 'Mock says: hello from maof');
      assert.equal(a.usageEstimated, true, 'mock-llm sends no usage');
      assert.ok((a.usage?.outputTokens ?? 0) > 0 && (a.costUsd ?? 0) > 0);
      const s = await askStream(['--agent', 'mock', 'stream me please']);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.text, 'Mock says: stream me please', 'mock-llm streams 12-character chunks, role, text and finish_reason in one chunk');
      assert.match(s.stderr, /\[maof\] mock · \w+ · ≈/, `the summary marks the estimated cost: ${s.stderr}`);
    });

    for (const [agentId, label] of [
      ['gw-openai', 'OpenAI format'],
      ['gw-anthropic', 'Anthropic format'],
      ['gw-anthropic-keyless', 'Anthropic format, keyless agent'],
    ] as const) {
      it(`through Portkey to the simulator, ${label}: the same answer and the exact usage, streamed and not`, async () => {
        const model = agentId === 'gw-openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5';
        // The keyless agent runs with no key in the environment at all.
        const keys = agentId !== 'gw-anthropic-keyless';
        const a = await askJson(['--agent', agentId, 'implement a ring buffer'], keys);
        assert.equal(a.ok, true, JSON.stringify(a));
        assert.equal(a.text, `Simulated ${model} reply: implement a ring buffer`);
        assert.equal(a.usageEstimated, undefined, 'the usage came through the gateway');
        const t = sim.tally();
        assert.equal(a.usage?.outputTokens, t.outputTokens);
        const s = await askStream(['--agent', agentId, 'implement a trie [[words:40]]'], keys);
        assert.equal(s.code, 0, s.stderr);
        assert.ok(s.text.startsWith(`Simulated ${model} reply: implement a trie alpha`), s.text);
        const log = sim.requestLog();
        assert.deepEqual(
          log.map((e) => e.stream),
          [false, true],
          'the second request streamed through the gateway',
        );
      });
    }

    it('through Portkey to mock-llm, streamed and not', async () => {
      const a = await askJson(['--agent', 'gw-mock', 'two hops']);
      assert.equal(a.text, 'Mock says: two hops');
      assert.equal(a.usageEstimated, true);
      const s = await askStream(['--agent', 'gw-mock', 'two hops streaming']);
      assert.equal(s.text, 'Mock says: two hops streaming', s.stderr);
    });
  });

  it('batch: 12 prompts over three routes and both foreign servers, every answer once and in order', async () => {
    const prompts = Array.from({ length: 12 }, (_, i) => ({ prompt: `batch prompt ${i}`, task: (['code', 'writing', 'analysis'] as const)[i % 3] }));
    const file = path.join(dir, 'batch.jsonl');
    writeFileSync(file, prompts.map((p) => JSON.stringify(p)).join('\n'));
    const r = await runCli(['batch', file, '--json', '--concurrency', '4', '--config', config], dir);
    assert.equal(r.code, 0, r.stderr);
    const answers = jsonLines(r.stdout);
    assert.equal(answers.length, 12);
    answers.forEach((a, i) => {
      assert.equal(a.ok, true, JSON.stringify(a));
      assert.ok(a.text?.includes(`batch prompt ${i}`), a.text);
    });
    // analysis: mock-missing (404 model_not_found) falls back to the gateway.
    const analysis = answers.filter((_, i) => i % 3 === 2);
    for (const a of analysis) assert.deepEqual(a.attempts.map((x) => `${x.agent}:${x.outcome}`), ['mock-missing:CONFIG', 'gw-openai:ok']);
  });

  describe('Retry-After passed through the gateway and honoured', () => {
    for (const [provider, agentId] of [
      ['openai', 'gw-openai'],
      ['anthropic', 'gw-anthropic'],
    ] as const) {
      for (const [header, fault, waitMs] of [
        ['retry-after-ms', { kind: 'rate_limit', retryAfterMs: 400 }, 400],
        ['retry-after in seconds', { kind: 'rate_limit', retryAfterS: 1 }, 1000],
      ] as const) {
        it(`${provider} format: ${header} reaches MAOF through Portkey and sets the wait`, async () => {
          sim.plan([{ match: { provider }, fault }]);
          const a = await askJson(['--agent', agentId, 'after the storm']);
          assert.equal(a.ok, true, JSON.stringify(a));
          // elapsedMs (time at the provider) varies run to run: compared apart.
          assert.ok(a.attempts.every((x) => typeof x.elapsedMs === 'number'), JSON.stringify(a.attempts));
          assert.deepEqual(a.attempts.map(({ elapsedMs: _e, ...x }) => x), [
            { agent: agentId, outcome: 'RATE_LIMITED', status: 429, waitMs },
            { agent: agentId, outcome: 'ok' },
          ]);
          assert.equal(sim.tally().requests, 2);
        });
      }
    }

    it('a wait beyond maxRetryAfterMs goes to the next agent at once (gateway → mock-llm)', async () => {
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterS: 60 } }]);
      const a = await askJson(['--task', 'code', 'fallback please']);
      assert.equal(a.ok, true, JSON.stringify(a));
      assert.equal(a.agent, 'mock');
      assert.deepEqual(a.attempts.map((x) => x.outcome), ['RATE_LIMITED', 'ok']);
      assert.equal(sim.tally().requests, 1, 'no retry on the gateway agent');
    });
  });

  describe('fallback from one foreign server to the other', () => {
    it('mock-llm does not know the model → Portkey answers; the message names agent, model and endpoint kind', async () => {
      const a = await askJson(['--task', 'analysis', 'review this']);
      assert.equal(a.ok, true, JSON.stringify(a));
      assert.equal(a.agent, 'gw-openai');
      const { elapsedMs: _e, ...first } = a.attempts[0] ?? {};
      // With a fallback in the route, a --json request is streamed on the wire (its first-token
      // deadline must see signs of life), and mock-llm sends the 404 of a stream as 200 + an error chunk.
      assert.deepEqual(first, { agent: 'mock-missing', outcome: 'CONFIG' });
      const pinned = await askJson(['--agent', 'mock-missing', 'review this']);
      assert.equal(pinned.error?.code, 'CONFIG');
      assert.equal(pinned.error?.message, 'The OpenAI-compatible server of agent "mock-missing" does not know model "no-such-model" — check the agent\'s model setting (the server lists the models it serves).');
    });

    it('the simulator overloaded behind Portkey → mock-llm answers', async () => {
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'overloaded' }, times: 5 }]);
      const a = await askJson(['--task', 'code', 'keep going']);
      assert.equal(a.ok, true, JSON.stringify(a));
      assert.equal(a.agent, 'mock');
      assert.deepEqual(a.attempts.map((x) => x.outcome), ['OVERLOADED', 'OVERLOADED', 'ok']);
    });
  });

  describe('foreign error shapes', () => {
    const code = (stderr: string): string | undefined => /\[([A-Z_]+)\]\s*$/.exec(stderr.trim())?.[1];

    it('mock-llm: an invalid key is AUTH over HTTP and inside a stream (it sends stream errors as a 200 SSE chunk)', async () => {
      const a = await askJson(['--agent', 'mock', 'ERR-KEY']);
      assert.equal(a.error?.code, 'AUTH');
      const s = await askStream(['--agent', 'mock', 'ERR-KEY']);
      assert.equal(s.code, 1);
      assert.equal(code(s.stderr), 'AUTH', s.stderr);
      assert.match(s.stderr, /The OpenAI-compatible server rejected the API key for agent "mock"/);
    });

    it('mock-llm: overloaded is OVERLOADED over HTTP and inside a stream, and is retried', async () => {
      const a = await askJson(['--agent', 'mock', 'ERR-OVERLOADED']);
      assert.deepEqual(a.attempts.map((x) => x.outcome), ['OVERLOADED', 'OVERLOADED']);
      const s = await askStream(['--agent', 'mock', 'ERR-OVERLOADED']);
      assert.equal(code(s.stderr), 'OVERLOADED', s.stderr);
    });

    it('mock-llm: a 429 without Retry-After is a pause waited out with our own backoff (not an outage), RATE_LIMITED at maxTotalMs', async () => {
      const a = await askJson(['--agent', 'mock', 'ERR-RATE']);
      assert.equal(a.error?.code, 'RATE_LIMITED');
      // A rate limit does not use up maxAttempts (2 here): it is waited out until the request's time is up.
      assert.ok(a.attempts.length > 2, `more tries than maxAttempts: ${a.attempts.length}`);
      // The call running when time is up is cut (TIMEOUT); the error is still the rate limit.
      assert.ok(a.attempts.slice(0, -1).every((x) => x.outcome === 'RATE_LIMITED' && (x.waitMs ?? -1) >= 0), 'each pause is a 429 with its wait');
      assert.match(a.attempts[a.attempts.length - 1]?.outcome ?? '', /^(RATE_LIMITED|TIMEOUT)$/);
      const s = await askStream(['--agent', 'mock', 'ERR-RATE']);
      assert.equal(code(s.stderr), 'RATE_LIMITED', s.stderr);
    });

    it('Portkey passes an in-stream error through unchanged: invalid_api_key is AUTH', async () => {
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'stream_error', error: 'invalid_api_key' } }]);
      const s = await askStream(['--agent', 'gw-openai', 'stream then fail']);
      assert.equal(code(s.stderr), 'AUTH', s.stderr);
      assert.equal(s.text, '', 'nothing of the failed stream on stdout');
    });

    it('Portkey rewrites error bodies ("openai error: …"; an OpenAI-shaped body on the Anthropic endpoint): still mapped by status and type', async () => {
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'model_not_found' } }]);
      const a = await askJson(['--agent', 'gw-openai', 'which model']);
      assert.equal(a.error?.code, 'CONFIG');
      sim.plan([{ match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 2 }]);
      const b = await askJson(['--agent', 'gw-anthropic', 'overloaded anthropic']);
      assert.deepEqual(b.attempts.map((x) => x.outcome), ['OVERLOADED', 'OVERLOADED']);
    });

    for (const [word, stream] of [
      ['EMPTY-CHOICES', false],
      ['EMPTY-TEXT', false],
      ['EMPTY-TEXT', true],
      ['FILTERED', false],
    ] as const) {
      it(`mock-llm: an answer without text (${word}${stream ? ', streamed' : ''}) is not a success: INVALID_OUTPUT naming the reason`, async () => {
        const r = stream ? await askStream(['--agent', 'mock', word]) : undefined;
        const a = stream ? undefined : await askJson(['--agent', 'mock', word]);
        const failed = a?.error ?? (r && { code: code(r.stderr) ?? '', message: r.stderr });
        assert.equal(failed?.code, 'INVALID_OUTPUT', JSON.stringify(a ?? r));
        assert.match(failed?.message ?? '', word === 'FILTERED' ? /content filter \(filtered\)/ : /empty answer \(no text\)/);
      });
    }

    it('mock-llm: a wrong baseUrl path (its express 404 `{"error":"Not Found"}`) is CONFIG, naming the endpoint problem', async () => {
      const a = await askJson(['--agent', 'mock-wrong-path', 'anyone there']);
      assert.equal(a.error?.code, 'CONFIG');
      assert.match(a.error?.message ?? '', /does not know the model or endpoint of agent "mock-wrong-path"/);
    });
  });
});
