// Opt-in hedging (issue 18 §4) over the route stage, on the fake clock: a primary that has produced
// nothing by its hedge delay gets a twin on the next agent; the first part wins, the other is aborted
// and billed; the caller sees one answer; a token bucket caps hedges; a warm conversation is not hedged.
import assert from 'node:assert/strict';
import { MaofError, cancelledError } from '../../../src/core/errors';
import { hedgeDelayMs } from '../../../src/core/pipeline/hedge';
import { runRoute } from '../../../src/core/pipeline/route';
import type { Provider, ProviderRequest, ProviderResponse } from '../../../src/core/providers/providerTypes';
import { HedgeBudget } from '../../../src/core/resilience/hedgeBudget';
import { LatencyStats } from '../../../src/core/resilience/latencyStats';
import { hedgingSchema } from '../../../src/core/config/schema';
import { toJson } from '../../../src/cli/main';
import type { FakeClock } from '../helpers/fakeClock';
import { routeOf, stageConfig, stages, thrown, withTime, type Stages } from '../helpers/pipelineHarness';

/** One agent's answer: parts streamed at clock offsets, then the answer; or silence until aborted; or an error after a while. */
type Step = { parts: Array<[atMs: number, text: string]>; /** Streams on after an abort, as a buffered chunk would. */ deaf?: true } | { silent: true } | { failAfterMs: number; error: MaofError };

/** Answers each agent from its own script on the fake clock; counts requests and aborts per agent. */
class TimedProvider implements Provider {
  readonly kind = 'openai' as const;
  readonly sent: string[] = [];
  readonly aborted: string[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly scripts: Record<string, Step[]>,
  ) {}

  async complete(req: ProviderRequest): Promise<ProviderResponse> {
    const id = req.agent.id;
    this.sent.push(id);
    req.signal.addEventListener('abort', () => this.aborted.push(id), { once: true });
    const step = this.scripts[id]?.shift() ?? { parts: [[10, `from ${id}`]] };
    if ('silent' in step) return new Promise((_r, reject) => req.signal.addEventListener('abort', () => reject(cancelledError()), { once: true }));
    if ('error' in step) {
      await this.clock.sleep(step.failAfterMs, req.signal);
      throw step.error;
    }
    let text = '';
    let at = 0;
    for (const [when, part] of step.parts) {
      await this.clock.sleep(when - at, step.deaf ? undefined : req.signal);
      at = when;
      text += part;
      req.onDelta?.(part);
    }
    return { text, usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 }, finishReason: 'stop', model: req.agent.model };
  }
}

const HEDGED = { hedging: { routes: ['code'], percentile: 0.95, minDelayMs: 200, maxShare: 0.03, burst: 3 } };

/** Stages whose agents answer from `scripts`; agent `a` has answered with a 300 ms first token five times (its hedge delay: 300 ms). */
function racing(scripts: Record<string, Step[]>, overrides: Record<string, unknown> = HEDGED): { s: Stages; provider: TimedProvider } {
  let provider: TimedProvider | undefined;
  const s = stages(stageConfig({ routes: { code: ['a', 'b', 'c'] }, agents: [...AGENTS_ABC], retry: { maxAttempts: 1, maxTotalMs: 60_000 }, ...overrides }), {
    provider: (clock) => (provider = new TimedProvider(clock, scripts)),
  });
  for (let i = 0; i < 5; i++) s.services.latency.recordAnswer('a', 300, 10, 100);
  return { s, provider: provider! };
}

const AGENTS_ABC = [
  { id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 100_000, maxOutputTokens: 512 },
  { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 512 },
  { id: 'c', provider: 'openai', model: 'gpt-4.1', contextWindow: 100_000, maxOutputTokens: 512 },
];

async function ask(s: Stages, req: Parameters<Stages['context']>[0] = {}): Promise<{ result: Awaited<ReturnType<typeof runRoute>>; seen: string[]; ctx: ReturnType<Stages['context']> }> {
  const seen: string[] = [];
  const ctx = Object.assign(s.context({ stream: true, onDelta: (d) => seen.push(d), ...req }), { task: 'code' });
  const result = await withTime(s.clock, runRoute(ctx, routeOf(s, 'code')));
  return { result, seen, ctx };
}

describe('pipeline: hedging (issue 18 §4)', () => {
  it('is off by default: a slow primary is waited for, the next agent is not asked', async () => {
    const { s, provider } = racing({ a: [{ parts: [[3_000, 'slow a']] }] }, {});
    const { result, seen } = await ask(s);
    assert.equal(result.agentId, 'a');
    assert.deepEqual(seen, ['slow a']);
    assert.deepEqual(provider.sent, ['a']);
    assert.ok(!s.events.some((e) => e.type === 'hedge.sent'));
  });

  it('a primary silent past its hedge delay: the next agent answers once, the primary is aborted and both are billed', async () => {
    const { s, provider } = racing({ a: [{ silent: true }], b: [{ parts: [[150, 'from '], [160, 'b']] }] });
    const started = s.clock.now();
    const { result, seen, ctx } = await ask(s);
    assert.equal(result.agentId, 'b');
    assert.deepEqual(seen, ['from ', 'b'], 'the winner streamed, once');
    assert.equal(result.text, 'from b');
    assert.equal(s.clock.now() - started, 300 + 160, 'the hedge went out at a\'s p95 first token (300 ms)');
    assert.deepEqual(provider.sent, ['a', 'b']);
    assert.deepEqual(provider.aborted, ['a']);
    assert.deepEqual(
      result.attempts.map((a) => [a.agent, a.outcome, a.hedge, a.abortedBy]),
      [
        ['a', 'CANCELLED', undefined, 'hedge'],
        ['b', 'ok', true, undefined],
      ],
    );
    const sentEvent = s.events.find((e) => e.type === 'hedge.sent');
    assert.deepEqual(sentEvent && { from: sentEvent.agentId, to: sentEvent.hedgeAgentId, delayMs: sentEvent.delayMs }, { from: 'a', to: 'b', delayMs: 300 });
    assert.ok(s.events.some((e) => e.type === 'hedge.won' && e.agentId === 'b' && e.loserId === 'a'));
    // Both calls reached the ledger: the aborted primary for the prompt it was sent.
    const billed = s.events.filter((e) => e.type === 'usage').map((e) => (e.type === 'usage' ? e.agentId : ''));
    assert.deepEqual(billed.sort(), ['a', 'b']);
    assert.ok(result.costUsd > 0 && result.usage.inputTokens > 100, 'the request\'s cost includes the aborted primary\'s input');
    assert.deepEqual(s.services.ledger.recent(5).map((e) => e.agentId).sort(), ['a', 'b'], 'both in the ledger');
    assert.equal(ctx.attempts.length, 2);
    assert.deepEqual(
      toJson(result).attempts.map((a) => [a.agent, a.hedge, a.abortedBy]),
      [
        ['a', undefined, 'hedge'],
        ['b', true, undefined],
      ],
      '`maof ask --json` shows the hedge and the loser',
    );
    assert.equal(s.services.ledger.summary().reservedUsd, 0, 'no reservation left behind');
  });

  it('a primary that answers before its delay is not hedged', async () => {
    const { s, provider } = racing({ a: [{ parts: [[250, 'quick a']] }] });
    const { result } = await ask(s);
    assert.equal(result.agentId, 'a');
    assert.deepEqual(provider.sent, ['a']);
  });

  it('the primary speaking first after the hedge went out wins; the user sees its parts only, never the hedge\'s', async () => {
    // b even streams on after its abort: its parts must still not reach the caller.
    const { s, provider } = racing({ a: [{ parts: [[400, 'a1 '], [900, 'a2']] }], b: [{ parts: [[200, 'b1 '], [300, 'b2']], deaf: true }] });
    const { result, seen } = await ask(s);
    assert.equal(result.agentId, 'a');
    assert.deepEqual(seen, ['a1 ', 'a2'], 'no interleaving: b\'s parts never reach the caller');
    assert.deepEqual(provider.aborted, ['b']);
    assert.deepEqual(result.attempts.map((a) => [a.agent, a.outcome, a.abortedBy]).slice(0, 1), [['a', 'ok', undefined]]);
    assert.equal(result.text, 'a1 a2');
  });

  it('when both fail, the route goes on after the backup (no second call to it)', async () => {
    const overloaded = (): MaofError => new MaofError('OVERLOADED', 'overloaded', { status: 529 });
    const { s, provider } = racing({ a: [{ failAfterMs: 500, error: overloaded() }], b: [{ failAfterMs: 100, error: overloaded() }] });
    const { result } = await ask(s);
    assert.equal(result.agentId, 'c');
    assert.deepEqual(provider.sent, ['a', 'b', 'c']);
    assert.ok(s.events.some((e) => e.type === 'fallback' && e.from === 'b' && e.to === 'c'));
  });

  it('a primary failing before its delay falls back as usual, without a hedge', async () => {
    const { s, provider } = racing({ a: [{ failAfterMs: 50, error: new MaofError('OVERLOADED', 'overloaded', { status: 529 }) }] });
    const { result } = await ask(s);
    assert.equal(result.agentId, 'b');
    assert.deepEqual(provider.sent, ['a', 'b']);
    assert.ok(!s.events.some((e) => e.type === 'hedge.sent'));
  });

  it('the token bucket caps hedges: 100 slow primaries get the burst and 3 % of the rest', async () => {
    const scripts = { a: Array.from({ length: 100 }, (): Step => ({ parts: [[1_000, 'slow a']] })) };
    const { s, provider } = racing(scripts, { hedging: { ...HEDGED.hedging, burst: 1 } });
    for (let i = 0; i < 100; i++) await ask(s);
    const hedges = provider.sent.filter((id) => id === 'b').length;
    // The burst (1) at once, then one more each time 0.03 a request has added up to a whole hedge (after 34 requests).
    assert.equal(hedges, 1 + Math.floor(99 * 0.03));
  });

  it('an agent without five measured answers is not hedged (no delay known yet)', async () => {
    const { s, provider } = racing({ c: [] }, HEDGED);
    const cold = stages(s.services.config, { provider: (clock) => new TimedProvider(clock, { a: [{ parts: [[3_000, 'slow a']] }] }) });
    const { result } = await ask(cold);
    assert.equal(result.agentId, 'a');
    assert.deepEqual(provider.sent, []);
  });

  it('a conversation warm on the primary is not hedged (its prompt cache would be paid again elsewhere)', async () => {
    const { s, provider } = racing({ a: [{ parts: [[1_000, 'warm a']] }] });
    const ctx = s.context({ sessionId: 'chat-1', stream: true, onDelta: () => undefined });
    s.services.sticky.remember(ctx.conversationKey!, { id: 'a', provider: 'openai' }, { inputTokens: 4_000, outputTokens: 10, cacheReadTokens: 3_000, cacheWriteTokens: 0 });
    const result = await withTime(s.clock, runRoute(Object.assign(ctx, { task: 'code' }), routeOf(s, 'code')));
    assert.equal(result.agentId, 'a');
    assert.deepEqual(provider.sent, ['a']);
  });

  it('a cancel by the caller ends both branches', async () => {
    const { s, provider } = racing({ a: [{ silent: true }], b: [{ silent: true }] });
    const abort = new AbortController();
    const ctx = Object.assign(s.context({ signal: abort.signal }), { task: 'code' });
    const work = runRoute(ctx, routeOf(s, 'code'));
    await s.clock.advance(400);
    assert.deepEqual(provider.sent, ['a', 'b']);
    abort.abort();
    assert.equal((await thrown(work)).code, 'CANCELLED');
    assert.deepEqual(provider.aborted.sort(), ['a', 'b']);
  });
});

describe('hedging: the delay and the budget', () => {
  it('the delay is the percentile of the measured first tokens, at least minDelayMs; unknown below five answers', () => {
    const stats = new LatencyStats();
    const policy = hedgingSchema.parse({ percentile: 0.9, minDelayMs: 200 });
    for (const ms of [100, 120, 140, 160]) stats.recordAnswer('a', ms, 1, 0);
    assert.equal(hedgeDelayMs('a', policy, stats), undefined);
    for (const ms of [180, 200, 220, 240, 260, 900]) stats.recordAnswer('a', ms, 1, 0);
    assert.equal(hedgeDelayMs('a', policy, stats), 260);
    assert.equal(hedgeDelayMs('a', { ...policy, minDelayMs: 1_000 }, stats), 1_000);
  });

  it('the bucket starts with its burst, then allows maxShare of a hedge per request', () => {
    const budget = new HedgeBudget(() => hedgingSchema.parse({ maxShare: 0.05, burst: 2 }));
    assert.ok(budget.take() && budget.take());
    assert.equal(budget.take(), false);
    let granted = 0;
    for (let i = 0; i < 1_000; i++) {
      budget.credit();
      if (budget.take()) granted++;
    }
    assert.ok(granted >= 49 && granted <= 50, `granted ${granted} of 1,000`);
  });
});
