// The loopback provider simulator on the wire: auth and error bodies as the real APIs send them,
// the fault plan and its HTTP control API, chaos that replays from a seed, and exact tallies.
import assert from 'node:assert/strict';
import { ProviderSimulator, type RequestLogEntry, type SimulatorAddress, type SimulatorTally } from '../../../src/simulator/providerSimulator';

const sim = new ProviderSimulator();
let addr: SimulatorAddress;

type Body = Record<string, unknown>;

// Just the fields these tests read from each wire format.
interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface AnthropicErrorBody {
  type: string;
  error: { type: string; message: string };
}
interface OpenAIChatBody {
  choices: Array<{ message: { content: string } }>;
  usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details: { cached_tokens: number } };
}
interface AnthropicMessageBody {
  content: Array<{ text: string }>;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
}
interface ModelsBody {
  object?: string;
  data: Array<{ id: string; type?: string }>;
}
interface Finding {
  findings: Array<{ severity: string }>;
  confidence: number;
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

async function openai(body: Body, key: string | null = 'sk-test'): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return fetch(`${addr.openaiBaseUrl}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function anthropic(body: Body, key: string | null = 'sk-ant-test'): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  if (key !== null) headers['x-api-key'] = key;
  return fetch(`${addr.anthropicBaseUrl}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const chat = (model = 'gpt-4.1', content = 'hello there'): Body => ({ model, messages: [{ role: 'user', content }] });
const msg = (model = 'claude-haiku-4-5', content = 'hello there'): Body => ({ model, max_tokens: 100, messages: [{ role: 'user', content }] });

async function control(path: string, body?: unknown): Promise<Response> {
  const base = `http://127.0.0.1:${addr.port}`;
  return body === undefined && path === '/__sim/tally'
    ? fetch(base + path)
    : fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) });
}

describe('ProviderSimulator', () => {
  before(async () => {
    addr = await sim.start(0);
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.reset());

  describe('auth, as the real APIs answer it', () => {
    it('answers a missing OpenAI key with 401 and the OpenAI error body', async () => {
      const res = await openai(chat(), null);
      assert.equal(res.status, 401);
      assert.ok(res.headers.get('x-request-id'));
      const body = await json<OpenAIErrorBody>(res);
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /didn't provide an API key/);
      assert.ok('param' in body.error && 'code' in body.error);
    });

    it('rejects an sk-bad key with invalid_api_key, masking the key', async () => {
      const res = await openai(chat(), 'sk-bad-0123456789abcdef');
      assert.equal(res.status, 401);
      const body = await json<OpenAIErrorBody>(res);
      assert.equal(body.error.code, 'invalid_api_key');
      assert.ok(!String(body.error.message).includes('sk-bad-0123456789abcdef'));
    });

    it('answers an empty Anthropic key with authentication_error', async () => {
      const res = await anthropic(msg(), '');
      assert.equal(res.status, 401);
      assert.ok(res.headers.get('request-id'));
      const body = await json<AnthropicErrorBody>(res);
      assert.deepEqual([body.type, body.error.type], ['error', 'authentication_error']);
    });

    it('counts rejected requests as faulted, with no tokens', async () => {
      await (await openai(chat(), null)).text();
      const t = sim.tally();
      assert.deepEqual([t.requests, t.faulted, t.succeeded, t.inputTokens], [1, 1, 0, 0]);
    });
  });

  describe('replies', () => {
    it('is deterministic, echoes the prompt, adds [[words:N]] and bills what it reports', async () => {
      const one = await json<OpenAIChatBody>(openai(chat('gpt-4.1', 'Summarise the file [[words:6]]')));
      const two = await json<OpenAIChatBody>(openai(chat('gpt-4.1', 'Summarise the file [[words:6]]')));
      const text = one.choices[0].message.content;
      assert.equal(text, two.choices[0].message.content);
      assert.equal(text, 'Simulated gpt-4.1 reply: Summarise the file alpha bravo charlie delta echo foxtrot');
      const t = sim.tally();
      assert.equal(t.inputTokens, 2 * one.usage.prompt_tokens);
      assert.equal(t.outputTokens, 2 * one.usage.completion_tokens);
      assert.equal(t.byModel['gpt-4.1']?.succeeded, 2);
    });

    it('adds a fenced TypeScript block of N functions for [[code:N]]', async () => {
      const body = await json<OpenAIChatBody>(openai(chat('gpt-4.1', 'Write an increment [[code:2]]')));
      assert.equal(
        body.choices[0].message.content,
        'Simulated gpt-4.1 reply: Write an increment\n\n```typescript\nexport function simulated1(value: number): number {\n  return value + 1;\n}\n\nexport function simulated2(value: number): number {\n  return value + 2;\n}\n```',
      );
    });

    it('answers with a JSON object when the prompt asks for one, and prose under invalid_output', async () => {
      const ask = { model: 'claude-haiku-4-5', max_tokens: 500, system: 'Respond with JSON only.', messages: [{ role: 'user', content: 'Review this' }] };
      const ok = await json<AnthropicMessageBody>(anthropic(ask));
      const parsed = JSON.parse(ok.content[0]?.text ?? '') as Finding;
      assert.equal(parsed.findings[0].severity, 'low');
      assert.equal(parsed.confidence, 0.8);
      sim.plan([{ fault: { kind: 'invalid_output' } }]);
      const prose = await json<AnthropicMessageBody>(anthropic(ask));
      assert.throws(() => JSON.parse(prose.content[0]?.text ?? '') as unknown);
    });

    it('respects max_tokens with stop_reason max_tokens', async () => {
      const body = await json<AnthropicMessageBody>(anthropic({ ...msg('claude-haiku-4-5', 'x [[words:50]]'), max_tokens: 4 }));
      assert.equal(body.stop_reason, 'max_tokens');
      assert.equal(body.usage.output_tokens, 4);
    });

    it('reports cached prompt tokens in prompt_tokens_details and cache_read_input_tokens', async () => {
      const o = await json<OpenAIChatBody>(openai(chat('gpt-4.1', 'cache me [[cached:4]]')));
      assert.equal(o.usage.prompt_tokens_details.cached_tokens, 4);
      const a = await json<AnthropicMessageBody>(anthropic(msg('claude-haiku-4-5', 'cache me [[cached:4]] [[cache_write:2]]')));
      assert.deepEqual([a.usage.cache_read_input_tokens, a.usage.cache_creation_input_tokens], [4, 2]);
      const t = sim.tally();
      assert.equal(t.cacheReadTokens, 8);
      assert.equal(t.cacheWriteTokens, 2);
      assert.equal(t.inputTokens, o.usage.prompt_tokens - 4 + a.usage.input_tokens);
    });

    it('streams OpenAI SSE ending with a usage chunk and [DONE] when include_usage is set', async () => {
      const res = await openai({ ...chat(), stream: true, stream_options: { include_usage: true } });
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const lines = (await res.text()).split('\n\n').filter(Boolean);
      assert.equal(lines[lines.length - 1], 'data: [DONE]');
      const usage = JSON.parse((lines[lines.length - 2] ?? '').slice(6)) as { choices: unknown[]; usage: { prompt_tokens: number } };
      assert.deepEqual(usage.choices, []);
      assert.equal(typeof usage.usage.prompt_tokens, 'number');
    });

    it('streams the Anthropic event sequence', async () => {
      const res = await anthropic({ ...msg(), stream: true });
      const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      assert.equal(events[0], 'message_start');
      assert.ok(events.includes('content_block_delta'));
      assert.deepEqual(events.slice(-4), ['content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    });

    it('lists models for both providers', async () => {
      const o = await json<ModelsBody>(fetch(`${addr.openaiBaseUrl}/models`, { headers: { authorization: 'Bearer sk-test' } }));
      assert.equal(o.object, 'list');
      assert.ok((o.data).some((m) => m.id === 'gpt-4.1'));
      const a = await json<ModelsBody>(fetch(`${addr.anthropicBaseUrl}/v1/models`, { headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }));
      assert.ok((a.data).every((m) => m.type === 'model'));
    });
  });

  describe('fault plan', () => {
    it('applies steps in order to matching requests only, `times` times', async () => {
      sim.plan([
        { match: { provider: 'anthropic' }, fault: { kind: 'overloaded' }, times: 2 },
        { match: { model: 'gpt-4.1-mini', stream: false }, fault: { kind: 'status', status: 500 } },
      ]);
      assert.equal(sim.pendingFaults(), 3);
      assert.equal((await openai(chat('gpt-4.1'))).status, 200);
      assert.equal((await openai(chat('gpt-4.1-mini'))).status, 500);
      assert.equal((await anthropic(msg())).status, 529);
      const third = await anthropic(msg());
      assert.equal(third.status, 529);
      assert.equal((await json<AnthropicErrorBody>(third)).error.type, 'overloaded_error');
      assert.equal((await anthropic(msg())).status, 200);
      assert.equal(sim.pendingFaults(), 0);
    });

    it('sends real rate-limit headers', async () => {
      sim.plan([{ fault: { kind: 'rate_limit', retryAfterMs: 40, resetHeader: '6m0s' } }, { fault: { kind: 'rate_limit' } }]);
      const o = await openai(chat());
      assert.equal(o.status, 429);
      assert.equal(o.headers.get('retry-after-ms'), '40');
      assert.equal(o.headers.get('x-ratelimit-reset-requests'), '6m0s');
      assert.equal((await json<OpenAIErrorBody>(o)).error.code, 'rate_limit_exceeded');
      const a = await anthropic(msg());
      assert.equal(a.headers.get('retry-after'), '1');
      assert.ok(!Number.isNaN(Date.parse(a.headers.get('anthropic-ratelimit-requests-reset') ?? '')));
      assert.equal((await json<AnthropicErrorBody>(a)).error.type, 'rate_limit_error');
    });

    it('sends the shapes foreign servers send: an unknown model, an error inside a stream, an answer without text or usage', async () => {
      sim.plan([{ fault: { kind: 'model_not_found' } }]);
      const nf = await openai(chat('gpt-9'));
      assert.equal(nf.status, 404);
      assert.equal((await json<OpenAIErrorBody>(nf)).error.code, 'model_not_found');

      sim.plan([{ fault: { kind: 'stream_error', error: 'invalid_api_key', afterChunks: 1 } }]);
      const streamed = await (await openai({ ...chat(), stream: true })).text();
      assert.match(streamed, /data: \{"error":\{"message":"Incorrect API key provided\.","type":"invalid_request_error","param":null,"code":"invalid_api_key"\}\}\n\n$/);
      sim.plan([{ fault: { kind: 'stream_error', error: 'overloaded' } }]);
      assert.match(await (await anthropic({ ...msg(), stream: true })).text(), /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}\}\n\n$/);
      sim.plan([{ fault: { kind: 'stream_error', error: 'rate_limit' } }]);
      const plain = await openai(chat());
      assert.equal(plain.status, 429, 'a request that does not stream gets the same error over HTTP');

      sim.plan([{ fault: { kind: 'empty_answer', reason: 'empty' } }, { fault: { kind: 'empty_answer', reason: 'filtered' } }, { fault: { kind: 'empty_answer', reason: 'refused' } }]);
      assert.deepEqual((await json<{ choices: unknown[] }>(openai(chat()))).choices, []);
      const filtered = await json<{ choices: Array<{ message: { content: null }; finish_reason: string }> }>(openai(chat()));
      assert.deepEqual([filtered.choices[0]?.message.content, filtered.choices[0]?.finish_reason], [null, 'content_filter']);
      const refused = await json<AnthropicMessageBody>(anthropic(msg()));
      assert.deepEqual([refused.content, refused.stop_reason], [[], 'refusal']);

      sim.plan([{ fault: { kind: 'no_usage' } }, { fault: { kind: 'no_usage' } }]);
      assert.equal('usage' in (await json<Record<string, unknown>>(openai(chat()))), false);
      const stream = await (await openai({ ...chat(), stream: true, stream_options: { include_usage: true } })).text();
      assert.ok(!stream.includes('"usage"'), stream);
      assert.equal((await control('/__sim/plan', [{ fault: { kind: 'stream_error', error: 'nope' } }])).status, 400);
    });

    it("sends each provider's context-length error", async () => {
      sim.plan([{ fault: { kind: 'context_length' }, times: 2 }]);
      assert.equal((await json<OpenAIErrorBody>(openai(chat()))).error.code, 'context_length_exceeded');
      assert.match((await json<AnthropicErrorBody>(anthropic(msg()))).error.message, /^prompt is too long: \d+ tokens > 200000 maximum$/);
    });

    it('records faults, outcomes and client aborts in the tally and the log, each request once', async () => {
      sim.plan([{ fault: { kind: 'reset_before' } }, { fault: { kind: 'hang' } }]);
      await assert.rejects(openai(chat()));
      const ac = new AbortController();
      const hanging = fetch(`${addr.openaiBaseUrl}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-test' }, body: JSON.stringify(chat()), signal: ac.signal });
      await waitUntil(() => sim.tally().requests === 2);
      ac.abort();
      await assert.rejects(hanging);
      await waitUntil(() => sim.tally().aborted === 1);
      assert.equal((await openai(chat())).status, 200);
      assert.deepEqual(
        sim.requestLog(10).map((e: RequestLogEntry) => [e.fault ?? '-', e.outcome, e.aborted]),
        [
          ['reset_before', 'faulted', false],
          ['hang', 'aborted', true],
          ['-', 'succeeded', false],
        ],
      );
      const t = sim.tally();
      assert.deepEqual([t.requests, t.succeeded, t.faulted, t.aborted], [3, 1, 1, 1]);
    });
  });

  describe('HTTP control API', () => {
    it('sets a plan, reads the tally and resets', async () => {
      const set = await control('/__sim/plan', [{ match: { provider: 'openai' }, fault: { kind: 'status', status: 503 } }]);
      assert.equal(set.status, 200);
      assert.deepEqual(await json<unknown>(set), { ok: true, pending: 1 });
      assert.equal((await openai(chat())).status, 503);
      const tally = await json<SimulatorTally>(control('/__sim/tally'));
      assert.deepEqual(tally, sim.tally());
      assert.equal(tally.faulted, 1);
      assert.equal((await control('/__sim/reset', {})).status, 200);
      assert.equal(sim.tally().requests, 0);
    });

    it('rejects an invalid plan or chaos setting with a reason, leaving the state alone', async () => {
      const bad = await control('/__sim/plan', [{ fault: { kind: 'explode' } }]);
      assert.equal(bad.status, 400);
      assert.match((await json<{ error: string }>(bad)).error, /kind must be one of/);
      const chaos = await control('/__sim/chaos', { rate: 2 });
      assert.equal(chaos.status, 400);
      assert.equal((await openai(chat())).status, 200);
    });

    it('sets chaos and base latency', async () => {
      assert.equal((await control('/__sim/chaos', { rate: 1, seed: 3, kinds: ['overloaded'] })).status, 200);
      assert.equal((await anthropic(msg())).status, 529);
      assert.equal((await control('/__sim/latency', { ms: 1 })).status, 200);
    });
  });

  describe('chaos', () => {
    async function run(seed: number): Promise<string[]> {
      sim.reset();
      sim.setChaos({ rate: 0.5, seed });
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        try {
          const res = await openai(chat());
          await res.arrayBuffer();
          out.push(String(res.status));
        } catch {
          out.push('reset');
        }
      }
      return out;
    }

    it('replays the same faults from the same seed, and only recoverable ones by default', async () => {
      const a = await run(42);
      const faultKinds = sim.requestLog(100).map((e) => e.fault);
      const b = await run(42);
      assert.deepEqual(a, b);
      assert.ok(a.includes('200') && a.some((s) => s !== '200'), `a mix of outcomes: ${a.join(',')}`);
      for (const k of faultKinds) assert.ok(k === undefined || ['rate_limit', 'overloaded', 'status', 'reset_before'].includes(k), String(k));
      assert.notDeepEqual(await run(7), a);
    });
  });

  describe('stop()', () => {
    it('closes connections held by a hanging request', async () => {
      const other = new ProviderSimulator();
      const { openaiBaseUrl } = await other.start(0);
      other.plan([{ fault: { kind: 'hang' } }]);
      const req = fetch(`${openaiBaseUrl}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify(chat()) });
      await waitUntil(() => other.tally().requests === 1);
      await other.stop();
      await assert.rejects(req);
      await waitUntil(() => other.tally().aborted === 1);
    });
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition never became true');
}
