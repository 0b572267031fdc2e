// The provider contract, run against the loopback simulator over real HTTP with the real SDK client
// behind each adapter: success and usage accounting, streaming, and every fault mapped to its code.
import assert from 'node:assert/strict';
import { agentSchema, type AgentConfig } from '../../../src/core/config/schema';
import { MaofError, type ErrorCode } from '../../../src/core/errors';
import type { Provider, ProviderRequest, ProviderResponse } from '../../../src/core/providers/provider';
import type { ChatMessage } from '../../../src/core/types';
import { ProviderSimulator, type Fault, type SimulatorAddress } from '../../../src/simulator/providerSimulator';

export const TEST_KEY = 'sk-sim-contract-key-0123456789abcdef';

type Kind = 'openai' | 'anthropic';

interface CallOptions {
  stream: boolean;
  messages?: ChatMessage[];
  maxOutputTokens?: number;
  timeoutMs?: number;
  apiKey?: string;
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
  json?: boolean;
  /** Call the provider's own API (no baseUrl): nothing may be sent without a key. */
  official?: boolean;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

export function describeProviderContract(kind: Kind, makeProvider: () => Provider): void {
  const label = kind === 'openai' ? 'OpenAI' : 'Anthropic';
  const model = kind === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5';
  const sim = new ProviderSimulator();
  let address: SimulatorAddress;
  let provider: Provider;

  before(async () => {
    address = await sim.start(0);
    provider = makeProvider();
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.reset());

  function agent(timeoutMs: number, official = false): AgentConfig {
    return agentSchema.parse({
      id: 'contract-agent',
      provider: kind,
      model,
      baseUrl: official ? undefined : kind === 'openai' ? address.openaiBaseUrl : address.anthropicBaseUrl,
      contextWindow: 200_000,
      timeoutMs,
    });
  }

  function request(o: CallOptions): ProviderRequest {
    return {
      agent: agent(o.timeoutMs ?? 5000, o.official),
      apiKey: o.apiKey ?? TEST_KEY,
      messages: o.messages ?? [
        { role: 'system', content: 'You are a terse assistant.' },
        { role: 'user', content: 'Explain the retry loop please [[words:20]] [[cached:5]] [[cache_write:3]]' },
      ],
      maxOutputTokens: o.maxOutputTokens ?? 1000,
      stream: o.stream,
      onDelta: o.onDelta,
      signal: o.signal ?? new AbortController().signal,
      json: o.json,
    };
  }

  /** Expects a MaofError and checks that nothing technical or secret reaches the user. */
  async function failure(o: CallOptions, code: ErrorCode): Promise<MaofError> {
    let caught: unknown;
    try {
      await provider.complete(request(o));
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof MaofError, `expected a MaofError, got ${String(caught)}`);
    assert.equal(caught.code, code, `code (message: ${caught.message}; detail: ${caught.detail ?? ''})`);
    for (const banned of ['127.0.0.1', 'http', TEST_KEY, 'sk-bad-key-0123456789']) {
      assert.ok(!caught.message.includes(banned), `user message leaks "${banned}": ${caught.message}`);
      if (banned !== 'http' && banned !== '127.0.0.1') assert.ok(!(caught.detail ?? '').includes(banned), `detail leaks "${banned}": ${caught.detail}`);
    }
    assert.equal(caught.agentId, 'contract-agent');
    return caught;
  }

  async function withFault(fault: Fault, o: CallOptions, code: ErrorCode): Promise<MaofError> {
    sim.plan([{ fault }]);
    const err = await failure(o, code);
    const t = sim.tally();
    assert.equal(t.requests, 1, 'the SDK made exactly one HTTP request (its retries are off)');
    assert.equal(t.inputTokens + t.outputTokens, 0, 'a failed request bills nothing');
    assert.equal(sim.pendingFaults(), 0);
    return err;
  }

  it('does not count loading the SDK against a short agent timeoutMs', async () => {
    const res = await provider.complete(request({ stream: false, timeoutMs: 300 }));
    assert.equal(res.finishReason, 'stop');
  });

  it(`fails with AUTH and sends nothing when no key is set for ${label}'s own API`, async () => {
    const err = await failure({ stream: false, apiKey: '', official: true }, 'AUTH');
    assert.ok(err.message.includes('MAOF: Set API Key'), err.message);
    assert.equal(sim.tally().requests, 0);
  });

  for (const stream of [false, true]) {
    it(`calls a keyless ${label}-compatible server (baseUrl set, requiresKey false) without a key${stream ? ', streaming' : ''}`, async () => {
      const res = await provider.complete(request({ stream, apiKey: '' }));
      assert.equal(res.finishReason, 'stop');
      assert.ok(res.text.length > 0);
      assert.equal(sim.tally().succeeded, 1);
    });
  }

  for (const stream of [false, true]) {
    describe(`${label} ${stream ? 'streaming' : 'non-streaming'}`, () => {
      it('answers with the exact usage the simulator billed', async () => {
        const deltas: string[] = [];
        const res: ProviderResponse = await provider.complete(request({ stream, onDelta: (d) => deltas.push(d) }));
        const t = sim.tally();
        assert.equal(t.requests, 1);
        assert.equal(t.succeeded, 1);
        assert.match(res.text, new RegExp(`^Simulated ${model} reply: Explain the retry loop please`));
        assert.equal(res.finishReason, 'stop');
        assert.equal(res.model, model);
        assert.deepEqual(res.usage, { inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheWriteTokens: t.cacheWriteTokens });
        assert.equal(res.usage.cacheReadTokens, 5, 'cached prompt tokens are counted apart from fresh input');
        assert.equal(res.usage.cacheWriteTokens, kind === 'anthropic' ? 3 : 0);
        assert.ok(res.usage.inputTokens > 0 && res.usage.outputTokens > 0);
        if (stream) {
          assert.ok(deltas.length > 3, `several deltas (got ${deltas.length})`);
          assert.equal(deltas.join(''), res.text);
        } else {
          assert.equal(deltas.length, 0);
        }
      });

      it('stops at maxOutputTokens and says so', async () => {
        const res = await provider.complete(request({ stream, maxOutputTokens: 5 }));
        assert.equal(res.finishReason, 'length');
        assert.equal(res.usage.outputTokens, 5);
        assert.equal(res.usage.outputTokens, sim.tally().outputTokens);
      });

      it('returns a JSON object when asked for one', async () => {
        const res = await provider.complete(
          request({
            stream,
            json: true,
            messages: [
              { role: 'system', content: 'Reply with JSON: {"summary": string, "findings": [...]}' },
              { role: 'user', content: 'Analyse this code' },
            ],
          }),
        );
        const parsed = JSON.parse(res.text) as { findings: unknown[]; summary: string };
        assert.ok(Array.isArray(parsed.findings) && parsed.findings.length > 0);
        assert.equal(typeof parsed.summary, 'string');
      });

      it('reuses one SDK client and its connection across calls', async () => {
        await provider.complete(request({ stream }));
        await provider.complete(request({ stream }));
        assert.equal(sim.tally().succeeded, 2);
      });

      describe('maps rate limits with the wait the provider asked for', () => {
        it('retry-after in seconds', async () => {
          const err = await withFault({ kind: 'rate_limit', retryAfterS: 7 }, { stream }, 'RATE_LIMITED');
          assert.equal(err.retryAfterMs, 7000);
          assert.equal(err.status, 429);
          assert.ok(err.message.includes(label) && err.message.includes('"contract-agent"') && err.message.includes('rateLimit'), err.message);
        });
        it('retry-after-ms', async () => {
          const err = await withFault({ kind: 'rate_limit', retryAfterMs: 250 }, { stream }, 'RATE_LIMITED');
          assert.equal(err.retryAfterMs, 250);
        });
        it('retry-after as an HTTP date', async () => {
          const err = await withFault({ kind: 'rate_limit', retryAfterS: 3, retryAfterDate: true }, { stream }, 'RATE_LIMITED');
          assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 1000 && err.retryAfterMs <= 3000, `got ${err.retryAfterMs}`);
        });
        it(`the ${kind === 'openai' ? 'x-ratelimit-reset-requests duration' : 'anthropic-ratelimit-requests-reset timestamp'}`, async () => {
          const err = await withFault({ kind: 'rate_limit', resetHeader: '1m30s' }, { stream }, 'RATE_LIMITED');
          assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 88_000 && err.retryAfterMs <= 90_000, `got ${err.retryAfterMs}`);
        });
      });

      const cases: Array<[string, Fault, ErrorCode]> = [
        ['overloaded', { kind: 'overloaded' }, 'OVERLOADED'],
        ['HTTP 500', { kind: 'status', status: 500 }, 'UPSTREAM'],
        ['HTTP 502', { kind: 'status', status: 502 }, 'UPSTREAM'],
        ['HTTP 503', { kind: 'status', status: 503 }, 'UPSTREAM'],
        ['HTTP 408', { kind: 'status', status: 408 }, 'TIMEOUT'],
        ['HTTP 401', { kind: 'status', status: 401 }, 'AUTH'],
        ['HTTP 403', { kind: 'status', status: 403 }, 'AUTH'],
        ['HTTP 400', { kind: 'status', status: 400 }, 'BAD_REQUEST'],
        ['HTTP 404', { kind: 'status', status: 404 }, 'CONFIG'],
        ['model not found (404)', { kind: 'model_not_found' }, 'CONFIG'],
        [`${stream ? 'in-stream' : 'HTTP'} invalid_api_key`, { kind: 'stream_error', error: 'invalid_api_key' }, 'AUTH'],
        [`${stream ? 'in-stream' : 'HTTP'} overloaded`, { kind: 'stream_error', error: 'overloaded' }, 'OVERLOADED'],
        [`${stream ? 'in-stream' : 'HTTP'} rate limit`, { kind: 'stream_error', error: 'rate_limit' }, 'RATE_LIMITED'],
        [`${stream ? 'in-stream' : 'HTTP'} server error`, { kind: 'stream_error', error: 'server_error' }, 'UPSTREAM'],
        [stream ? "in-stream invalid_api_key as the stream's only event (mock-llm's shape)" : 'HTTP 401 for a bare stream_error not streamed', { kind: 'stream_error', error: 'invalid_api_key', bare: true }, 'AUTH'],
        ['gateway-relayed 401 (Portkey shape)', { kind: 'gateway_error', status: 401 }, 'AUTH'],
        ['gateway-relayed 404 model not found (Portkey shape)', { kind: 'gateway_error', status: 404 }, 'CONFIG'],
        ['gateway-relayed 429 (Portkey shape)', { kind: 'gateway_error', status: 429 }, 'RATE_LIMITED'],
        ['gateway-relayed 500 (Portkey shape)', { kind: 'gateway_error', status: 500 }, 'UPSTREAM'],
        ['gateway-relayed 529 (Portkey shape)', { kind: 'gateway_error', status: 529 }, 'OVERLOADED'],
        ...(kind === 'openai' && stream
          ? ([
              ['in-stream invalid_api_key as an SSE error event', { kind: 'stream_error', error: 'invalid_api_key', sseEvent: true }, 'AUTH'],
              ['in-stream overloaded as an SSE error event', { kind: 'stream_error', error: 'overloaded', sseEvent: true }, 'OVERLOADED'],
            ] as Array<[string, Fault, ErrorCode]>)
          : []),
        ['context length exceeded', { kind: 'context_length' }, 'CONTEXT_TOO_LARGE'],
        ['connection reset before any byte', { kind: 'reset_before' }, 'NETWORK'],
        ['connection reset mid-reply', { kind: 'reset_mid_stream', afterChunks: 2 }, 'NETWORK'],
        ['malformed SSE / body', { kind: 'malformed_sse' }, 'UPSTREAM'],
        ['truncated JSON', { kind: 'truncated_json' }, 'UPSTREAM'],
      ];
      for (const [name, fault, code] of cases) {
        it(`${name} → ${code}`, async () => {
          await withFault(fault, { stream }, code);
        });
      }

      it(`a server that does not know the model names the agent, the model and the endpoint kind, never "${label}" alone`, async () => {
        const err = await withFault({ kind: 'model_not_found' }, { stream }, 'CONFIG');
        assert.equal(err.message, `The ${label}-compatible server of agent "contract-agent" does not know model "${model}" — check the agent's model setting (the server lists the models it serves).`);
        assert.equal(err.fallbackWorthy, true);
        assert.equal(err.countsAgainstBreaker, false);
      });

      for (const [reason, finish] of [['empty', 'other'], ['filtered', kind === 'openai' ? 'filtered' : 'refused'], ['refused', 'refused']] as const) {
        it(`an answer without text (${reason}) comes back as such, for the orchestrator to refuse`, async () => {
          sim.plan([{ fault: { kind: 'empty_answer', reason } }]);
          const deltas: string[] = [];
          const res = await provider.complete(request({ stream, onDelta: (d) => deltas.push(d) }));
          assert.equal(res.text, '');
          assert.equal(deltas.length, 0);
          if (reason !== 'empty') assert.equal(res.finishReason, finish);
        });
      }

      it('marks the usage as estimated when the server reports none', async () => {
        sim.plan([{ fault: { kind: 'no_usage' } }]);
        const res = await provider.complete(request({ stream }));
        assert.ok(res.text.length > 0);
        assert.equal(res.usageEstimated, true);
        const billed = await provider.complete(request({ stream }));
        assert.equal(billed.usageEstimated, undefined, 'a normal answer is billed, not estimated');
      });

      it('names the fix when the key is rejected, without echoing the key', async () => {
        const err = await failure({ stream, apiKey: 'sk-bad-key-0123456789' }, 'AUTH');
        assert.ok(err.message.includes('MAOF: Set API Key'), err.message);
        assert.equal(sim.tally().requests, 1);
      });

      it('says the request is too large for the context window', async () => {
        const err = await withFault({ kind: 'context_length' }, { stream }, 'CONTEXT_TOO_LARGE');
        assert.ok(err.message.includes('contextWindow'), err.message);
        assert.equal(err.retryable, false);
      });

      it('a server that never answers ends in TIMEOUT at the agent timeoutMs', async function () {
        this.timeout(2500);
        await withFault({ kind: 'hang' }, { stream, timeoutMs: 300 }, 'TIMEOUT');
      });


      it('is CANCELLED without a request when the signal already fired', async () => {
        const ac = new AbortController();
        ac.abort();
        await failure({ stream, signal: ac.signal }, 'CANCELLED');
        assert.equal(sim.tally().requests, 0);
      });

      if (stream) {
        it('a stream that stalls between chunks ends in TIMEOUT', async function () {
          this.timeout(2500);
          const deltas: string[] = [];
          await withFault({ kind: 'slow_stream', chunkDelayMs: 1500 }, { stream, timeoutMs: 300, onDelta: (d) => deltas.push(d) }, 'TIMEOUT');
          assert.equal(deltas.length, 0, 'only the role/preamble event arrived before the stall');
        });

        it('a cut stream keeps the deltas already shown and ends in NETWORK', async () => {
          const deltas: string[] = [];
          await withFault({ kind: 'reset_mid_stream', afterChunks: 2 }, { stream, onDelta: (d) => deltas.push(d) }, 'NETWORK');
          assert.equal(deltas.length, 2);
        });

        it('aborting mid-stream is CANCELLED and the simulator sees the client leave', async () => {
          sim.plan([{ fault: { kind: 'slow_stream', chunkDelayMs: 30 } }]);
          const ac = new AbortController();
          const deltas: string[] = [];
          await failure(
            {
              stream,
              signal: ac.signal,
              onDelta: (d) => {
                deltas.push(d);
                ac.abort();
              },
            },
            'CANCELLED',
          );
          assert.equal(deltas.length, 1);
          await waitFor(() => sim.tally().aborted === 1, 'the simulator to record the abort');
          const t = sim.tally();
          assert.equal(t.requests, 1);
          assert.equal(t.succeeded, 0);
          assert.equal(t.outputTokens, 0);
        });
      }
    });
  }
}
