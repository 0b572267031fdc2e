// R1: every upstream fault × stream / non-stream × OpenAI / Anthropic, through the real SDKs over real
// HTTP. Each cell asserts the exact outcome (retry on the same agent, fallback to the other
// provider, or — with no fallback — the right sanitised error), the exact attempts MAOF recorded,
// the exact number of requests the simulator saw, and is bounded by its own short timeout.
import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/core/errors';
import { costOf } from '../../src/core/cost/costCalculator';
import { pricingFor } from '../../src/core/config/schema';
import type { Fault } from '../../src/simulator/faultPlan';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { bump, record } from './support/runContext';
import { CountedSimulator, assertSanitised, buildOrchestrator, expectFail, expectOk, relConfig, scanResult, scanStore } from './support/pipeline';
import { userTurn } from '../../src/core/types';

type Provider = 'openai' | 'anthropic';
type Point = 'retry' | 'fallback';

interface Row {
  name: string;
  fault: Fault;
  /** What the cell with a fallback proves: a retry that succeeds, or a fallback after the primary gave up. */
  point: Point;
  code: ErrorCode;
  status: (p: Provider, stream: boolean) => number | undefined;
  message: RegExp;
  /** Retried on the same agent (else one attempt, then the next agent at once). */
  retryable: boolean;
  /** The wait before each retry, in order (exact: the policy has no jitter). */
  waits: number[];
  /** Hangs: the primary gets a short timeoutMs. */
  hang?: boolean;
  /** A 429 asking for more than maxRetryAfterMs: no retry at all. */
  overCap?: boolean;
  /** The provider answered (without text) and billed the prompt: the failed attempt costs money. */
  billed?: boolean;
  /**
   * A 429 we are willing to wait out: a pause of the key, not a failed attempt. It does not count
   * toward maxAttempts or the breaker, so the request is answered by the same agent once the
   * storm ends (bounded only by maxTotalMs), with a 'waiting' event per pause.
   */
  pause?: boolean;
}

/** Consecutive 429s the no-fallback cell of a pause row waits out: more than maxAttempts. */
const STORM = 4;

const MAX_ATTEMPTS = 3;
const BACKOFF = [5, 10]; // baseDelayMs 5, doubling, jitter 0
const HANG_TIMEOUT_MS = 800;
const none = (): undefined => undefined;
const fixed = (n: number) => (): number => n;

const ROWS: Row[] = [
  {
    name: '429 retry-after (seconds)',
    fault: { kind: 'rate_limit', retryAfterS: 1 },
    point: 'retry',
    code: 'RATE_LIMITED',
    status: fixed(429),
    message: /is rate-limiting agent "(oa|an)" — retries and fallbacks did not help/,
    retryable: true,
    waits: [1000, 1000, 1000, 1000],
    pause: true,
  },
  {
    name: '429 retry-after over the cap',
    fault: { kind: 'rate_limit', retryAfterS: 120 },
    point: 'fallback',
    code: 'RATE_LIMITED',
    status: fixed(429),
    message: /is rate-limiting agent "(oa|an)"/,
    retryable: true,
    waits: [],
    overCap: true,
  },
  {
    name: '429 retry-after-ms',
    fault: { kind: 'rate_limit', retryAfterMs: 25 },
    point: 'retry',
    code: 'RATE_LIMITED',
    status: fixed(429),
    message: /is rate-limiting agent "(oa|an)"/,
    retryable: true,
    waits: [25, 25, 25, 25],
    pause: true,
  },
  { name: '500', fault: { kind: 'status', status: 500 }, point: 'retry', code: 'UPSTREAM', status: fixed(500), message: /had a server error answering agent "(oa|an)"/, retryable: true, waits: BACKOFF },
  { name: '502', fault: { kind: 'status', status: 502 }, point: 'fallback', code: 'UPSTREAM', status: fixed(502), message: /had a server error answering agent "(oa|an)"/, retryable: true, waits: BACKOFF },
  { name: '503', fault: { kind: 'status', status: 503 }, point: 'retry', code: 'UPSTREAM', status: fixed(503), message: /had a server error answering agent "(oa|an)"/, retryable: true, waits: BACKOFF },
  {
    name: '529 overloaded',
    fault: { kind: 'overloaded' },
    point: 'fallback',
    code: 'OVERLOADED',
    status: (p) => (p === 'openai' ? 503 : 529),
    message: /is overloaded right now \(agent "(oa|an)"\)/,
    retryable: true,
    waits: BACKOFF,
  },
  {
    name: 'timeout (hang)',
    fault: { kind: 'hang' },
    point: 'retry',
    code: 'TIMEOUT',
    status: none,
    message: /(did not answer|went silent for longer than) agent "(oa|an)"('s timeoutMs| in time)/,
    retryable: true,
    waits: BACKOFF,
    hang: true,
  },
  {
    name: 'reset before the response',
    fault: { kind: 'reset_before' },
    point: 'fallback',
    code: 'NETWORK',
    status: none,
    message: /Could not reach the (OpenAI|Anthropic)-compatible server for agent "(oa|an)" \(the connection failed or dropped\)/,
    retryable: true,
    waits: BACKOFF,
  },
  {
    name: 'reset mid-response',
    fault: { kind: 'reset_mid_stream', afterChunks: 1 },
    point: 'retry',
    code: 'NETWORK',
    status: none,
    message: /Could not reach the (OpenAI|Anthropic)-compatible server for agent "(oa|an)"/,
    retryable: true,
    waits: BACKOFF,
  },
  { name: 'malformed SSE', fault: { kind: 'malformed_sse' }, point: 'retry', code: 'UPSTREAM', status: none, message: /sent a broken or incomplete reply to agent "(oa|an)"/, retryable: true, waits: BACKOFF },
  { name: 'truncated JSON', fault: { kind: 'truncated_json' }, point: 'fallback', code: 'UPSTREAM', status: none, message: /sent a broken or incomplete reply to agent "(oa|an)"/, retryable: true, waits: BACKOFF },
  { name: '401', fault: { kind: 'status', status: 401 }, point: 'fallback', code: 'AUTH', status: fixed(401), message: /rejected the API key for agent "(oa|an)" — run "MAOF: Set API Key"/, retryable: false, waits: [] },
  { name: '403', fault: { kind: 'status', status: 403 }, point: 'fallback', code: 'AUTH', status: fixed(403), message: /refused agent "(oa|an)" access to its model/, retryable: false, waits: [] },
  {
    name: '400 context length',
    fault: { kind: 'context_length' },
    point: 'fallback',
    code: 'CONTEXT_TOO_LARGE',
    status: fixed(400),
    message: /The request is larger than agent "(oa|an)"'s context window/,
    retryable: false,
    waits: [],
  },
  // What servers we did not write answer (issue 10 §2).
  {
    name: '404 model not found',
    fault: { kind: 'model_not_found' },
    point: 'fallback',
    code: 'CONFIG',
    status: fixed(404),
    message: /The (OpenAI|Anthropic)-compatible server of agent "(oa|an)" does not know model "[a-z0-9.-]+" — check the agent's model setting/,
    retryable: false,
    waits: [],
  },
  {
    name: 'invalid_api_key inside the stream (HTTP 401 when not streaming)',
    fault: { kind: 'stream_error', error: 'invalid_api_key' },
    point: 'fallback',
    code: 'AUTH',
    status: (_p, stream) => (stream ? undefined : 401),
    message: /rejected the API key for agent "(oa|an)" — run "MAOF: Set API Key"/,
    retryable: false,
    waits: [],
  },
  {
    name: 'overloaded inside the stream (HTTP 529 when not streaming)',
    fault: { kind: 'stream_error', error: 'overloaded' },
    point: 'retry',
    code: 'OVERLOADED',
    status: (_p, stream) => (stream ? undefined : 529),
    message: /is overloaded right now \(agent "(oa|an)"\)/,
    retryable: true,
    waits: BACKOFF,
  },
  {
    name: 'an answer without text (empty)',
    fault: { kind: 'empty_answer', reason: 'empty' },
    point: 'fallback',
    code: 'INVALID_OUTPUT',
    status: none,
    message: /Agent "(oa|an)" sent an empty answer \(no text\)/,
    retryable: false,
    waits: [],
    billed: true,
  },
  {
    name: 'an answer without text (refused)',
    fault: { kind: 'empty_answer', reason: 'refused' },
    point: 'fallback',
    code: 'INVALID_OUTPUT',
    status: none,
    message: /Agent "(oa|an)" refused to answer \(refused\)/,
    retryable: false,
    waits: [],
    billed: true,
  },
];

const AGENT: Record<Provider, { id: string; model: string; label: string }> = {
  openai: { id: 'oa', model: 'gpt-4.1-mini', label: 'OpenAI' },
  anthropic: { id: 'an', model: 'claude-haiku-4-5', label: 'Anthropic' },
};
const other = (p: Provider): Provider => (p === 'openai' ? 'anthropic' : 'openai');

type Tuple = [agent: string, outcome: string, status: number | null, waitMs: number | null];
const tuples = (attempts: Array<{ agent: string; outcome: string; status?: number; waitMs?: number }>): Tuple[] =>
  attempts.map((a) => [a.agent, a.outcome, a.status ?? null, a.waitMs ?? null]);

/**
 * The attempts the primary makes before it succeeds (retry) or gives up (fallback / no fallback).
 * With a fallback in the route, a request that does not stream is streamed on the wire all the
 * same (its first-token deadline must see signs of life), so its faults come as in a stream.
 */
function primaryFailures(row: Row, p: Provider, scenario: Point | 'none', asked: boolean): Tuple[] {
  const id = AGENT[p].id;
  const stream = asked || scenario !== 'none';
  if (row.pause) return Array.from({ length: scenario === 'none' ? STORM : 1 }, (_, i): Tuple => [id, row.code, row.status(p, stream) ?? null, row.waits[i] ?? null]);
  const failures = !row.retryable || row.overCap ? 1 : scenario === 'retry' ? 1 : MAX_ATTEMPTS;
  return Array.from({ length: failures }, (_, i): Tuple => {
    const retried = scenario === 'retry' || i < failures - 1;
    return [id, row.code, row.status(p, stream) ?? null, retried && row.retryable && !row.overCap ? (row.waits[i] ?? null) : null];
  });
}

/** A few seconds per cell, plus the waits and timeouts the cell is made of: a hang fails the cell. */
function cellTimeout(row: Row): number {
  return 5_000 + row.waits.reduce((a, b) => a + b, 0) + (row.hang ? HANG_TIMEOUT_MS * MAX_ATTEMPTS : 0);
}

describe('R1 fault matrix: each upstream fault ends in a retry, a fallback or a clear error, within budget', function () {
  const sim = new CountedSimulator();
  let addr: SimulatorAddress;
  let cells = 0;
  let passed = 0;
  let seq = 0;

  before(async function () {
    this.timeout(30_000);
    addr = await sim.start();
    // Load both SDKs once, so no cell pays for it inside its own short timeout.
    const { orchestrator } = buildOrchestrator('r1-warmup', relConfig(addr));
    expectOk(await orchestrator.run({ messages: [userTurn('warm up')], task: 'code' }));
    expectOk(await orchestrator.run({ messages: [userTurn('warm up')], task: 'writing' }));
  });
  after(async () => {
    await sim.stop();
    record('R1', { cells, cellsPassed: passed });
  });
  beforeEach(async () => {
    await sim.quiesce();
    sim.reset();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'passed') passed++;
  });

  function configFor(primary: Provider, withFallback: boolean, row: Row) {
    const route = withFallback ? [AGENT[primary].id, AGENT[other(primary)].id] : [AGENT[primary].id];
    const short = row.hang ? { timeoutMs: HANG_TIMEOUT_MS } : {};
    return relConfig(addr, { routes: { code: route } }, primary === 'openai' ? { oa: short } : { an: short });
  }

  for (const row of ROWS) {
    for (const provider of ['openai', 'anthropic'] as const) {
      for (const stream of [false, true]) {
        const where = `${row.name} · ${stream ? 'stream' : 'non-stream'} · ${provider}`;
        const p = AGENT[provider];
        const o = AGENT[other(provider)];

        cells++;
        it(`${where} → ${row.point === 'retry' ? `retried, answered by ${p.id}` : `falls back to ${o.id}`}`, async function () {
          this.timeout(cellTimeout(row));
          const times = row.point === 'retry' ? 1 : MAX_ATTEMPTS;
          sim.plan([{ match: { provider }, fault: row.fault, times }]);
          const { orchestrator, store, events } = buildOrchestrator(`r1-${seq}`, configFor(provider, true, row));
          let shown = '';
          let restarts = 0;
          const id = `cell-${++seq}`;
          const r = await orchestrator.run({
            messages: [userTurn(`${id} implement it [[words:24]]`)],
            task: 'code',
            stream,
            onDelta: (t) => (shown += t),
            onRestart: () => {
              restarts++;
              shown = '';
            },
          });
          scanResult(`r1-${id}`, r);
          await scanStore(`r1-${id}`, orchestrator, store);
          const ok = expectOk(r);
          await sim.quiesce();

          const failures = primaryFailures(row, provider, row.point, stream);
          const answeredBy = row.point === 'retry' ? p : o;
          assert.equal(ok.agentId, answeredBy.id);
          assert.match(ok.text, new RegExp(`^Simulated ${answeredBy.model} reply: ${id} implement it`));
          assert.deepEqual(tuples(ok.attempts), [...failures, [answeredBy.id, 'ok', null, null]]);
          // The simulator saw exactly these requests, no more.
          assert.equal(sim.requestsBy(provider), failures.length + (row.point === 'retry' ? 1 : 0), 'requests to the primary');
          assert.equal(sim.requestsBy(other(provider)), row.point === 'retry' ? 0 : 1, 'requests to the fallback');
          assert.equal(sim.tally().requests, ok.attempts.length);
          assert.ok(failures.length <= MAX_ATTEMPTS, 'within the retry budget');
          if (stream) assert.equal(shown, ok.text, 'after a restart the shown text is exactly the answer');
          else assert.equal(restarts, 0);

          // What the dashboard and chat narrate: one retry event per wait, one fallback event.
          const retried = row.pause ? [] : failures.filter((a) => a[3] !== null).map((a) => a[3]);
          assert.deepEqual(
            events.filter((e) => e.type === 'waiting').map((e) => (e.type === 'waiting' ? [e.reason, e.agentId, e.until - e.at] : [])),
            row.pause ? failures.map((a) => ['rate-limit', p.id, a[3]]) : [],
            'a 429 pause is shown as a wait with its end',
          );
          assert.deepEqual(events.filter((e) => e.type === 'retry.scheduled').map((e) => (e.type === 'retry.scheduled' ? e.waitMs : -1)), retried);
          const fallbacks = events.filter((e) => e.type === 'fallback');
          assert.deepEqual(fallbacks.map((e) => (e.type === 'fallback' ? [e.from, e.to, e.reason] : [])), row.point === 'retry' ? [] : [[p.id, o.id, row.code]]);
          // Billed exactly once, for the one answer (an answer without text was billed too: not compared here).
          if (row.billed) return;
          const t = sim.tally();
          const cost = costOf({ inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheWriteTokens: t.cacheWriteTokens }, pricingFor(orchestrator.currentConfig.agents.find((a) => a.id === answeredBy.id)!));
          assert.ok(Math.abs(ok.costUsd - cost) < 1e-12, `cost ${ok.costUsd} = ${cost}`);
          const spend = orchestrator.ledger.summary();
          assert.equal(spend.reservedUsd, 0, 'no reservation left behind');
          assert.ok(Math.abs(spend.monthUsd - cost) < 1e-9);
        });

        if (row.pause) {
          cells++;
          it(`${where}, no fallback, ${STORM} 429s in a row → waited out, answered by ${p.id}, breaker closed`, async function () {
            this.timeout(cellTimeout(row));
            sim.plan([{ match: { provider }, fault: row.fault, times: STORM }]);
            const { orchestrator } = buildOrchestrator(`r1p-${seq}`, configFor(provider, false, row));
            const id = `cell-${++seq}`;
            const ok = expectOk(await orchestrator.run({ messages: [userTurn(`${id} implement it [[words:24]]`)], task: 'code', stream, onDelta: () => undefined }));
            await sim.quiesce();
            assert.equal(ok.agentId, p.id);
            assert.deepEqual(tuples(ok.attempts), [...primaryFailures(row, provider, 'none', stream), [p.id, 'ok', null, null]]);
            assert.equal(sim.requestsBy(provider), STORM + 1);
            const breaker = orchestrator.breakers.get(p.id).snapshot();
            assert.equal(breaker.state, 'closed');
            assert.equal(breaker.consecutiveFailures, 0, 'a rate-limit pause is not an outage');
          });
          continue;
        }
        cells++;
        it(`${where}, no fallback → ${row.code}${row.status(provider, stream) ? ` ${row.status(provider, stream)}` : ''}, sanitised`, async function () {
          this.timeout(cellTimeout(row));
          sim.plan([{ match: { provider }, fault: row.fault, times: MAX_ATTEMPTS + 2 }]);
          const { orchestrator, store, logLines } = buildOrchestrator(`r1n-${seq}`, configFor(provider, false, row));
          const id = `cell-${++seq}`;
          const r = await orchestrator.run({ messages: [userTurn(`${id} implement it [[words:24]]`)], task: 'code', stream, onDelta: () => undefined });
          scanResult(`r1-${id}`, r);
          await scanStore(`r1-${id}`, orchestrator, store);
          const f = expectFail(r);
          await sim.quiesce();

          const failures = primaryFailures(row, provider, 'none', stream);
          assert.equal(f.error.code, row.code);
          assert.equal(f.error.status, row.status(provider, stream));
          assert.match(f.error.message, row.message);
          assert.ok(f.error.message.includes(`"${p.id}"`), 'the message names the agent');
          if (row.code !== 'CONTEXT_TOO_LARGE' && row.code !== 'INVALID_OUTPUT') assert.ok(f.error.message.includes(p.label), 'the message names the provider');
          assertSanitised(f.error.message);
          assert.deepEqual(tuples(f.attempts), failures);
          assert.equal(sim.requestsBy(provider), failures.length, 'requests to the only agent');
          assert.equal(sim.tally().requests, failures.length);
          assert.ok(f.durationMs <= orchestrator.currentConfig.retry.maxTotalMs, 'within maxTotalMs');
          const spend = orchestrator.ledger.summary();
          assert.equal(spend.reservedUsd, 0);
          if (row.billed) assert.ok(spend.monthUsd > 0 && f.costUsd > 0, 'the provider answered and billed the prompt: counted, not lost');
          else assert.equal(spend.monthUsd, 0, 'a failed request costs nothing');
          // The technical detail reached the log, where it belongs.
          assert.ok(logLines.some((l) => /Request \S+ failed: /.test(l)), 'the failure is logged');
          bump('R1', `final:${row.code}`);
        });
      }
    }
  }
});
