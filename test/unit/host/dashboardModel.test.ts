import * as assert from 'node:assert/strict';
import type { SpendSummary } from '../../../src/core/cost/costLedger';
import { dailyBars, DashboardModel, LIVE_HISTORY, monthDayBars, RECENT_REQUESTS, type SnapshotInput } from '../../../src/host/dashboard/dashboardModel';

const T0 = Date.UTC(2025, 5, 15, 12);

function summary(over: Partial<SpendSummary> = {}): SpendSummary {
  return {
    monthUsd: 3.5,
    dayUsd: 0.5,
    reservedUsd: 0.01,
    monthlyLimitUsd: 20,
    byAgent: { 'claude-sonnet': 2.5, 'gpt-4.1': 1, idle: 0 },
    byTask: { code: 3, writing: 0.5 },
    bySource: { 'MAOF chat': 2, 'VS Code Chat': 1.5 },
    byDay: { '2025-06-15': 0.5, '2025-06-01': 3, '2025-05-01': 9 },
    requests: 12,
    cacheHits: 4,
    savedUsd: 0.2,
    month: '2025-06',
    day: '2025-06-15',
    ...over,
  };
}

function input(over: Partial<SnapshotInput> = {}): SnapshotInput {
  return { now: T0, summary: summary(), breakers: [], breakerResetTimeoutMs: 60_000, cacheEntries: 7, ...over };
}

function run(model: DashboardModel, requestId: string, opts: { agent?: string; ok?: boolean; durationMs?: number; cached?: boolean; at?: number } = {}): void {
  const at = opts.at ?? T0;
  model.onEvent({ type: 'request.started', at, requestId, task: 'code', agents: ['a'], pattern: 'single' });
  model.onEvent({
    type: 'request.finished',
    at: at + (opts.durationMs ?? 100),
    requestId,
    ok: opts.ok ?? true,
    agentId: opts.agent ?? 'a',
    errorCode: opts.ok === false ? 'RATE_LIMITED' : undefined,
    durationMs: opts.durationMs ?? 100,
    costUsd: 0.01,
    attempts: 1,
    cached: opts.cached ?? false,
  });
}

describe('DashboardModel', () => {
  it('builds spend vs budget, bars sorted by spend without zero rows, and 30 days ending today', () => {
    const s = new DashboardModel(() => 3).snapshot(input());
    assert.equal(s.spend.monthUsd, 3.5);
    assert.equal(s.spend.monthlyLimitUsd, 20);
    assert.equal(s.spend.requests, 12);
    assert.deepEqual(s.byAgent, [{ label: 'claude-sonnet', usd: 2.5 }, { label: 'gpt-4.1', usd: 1 }]);
    assert.deepEqual(s.byTask.map((b) => b.label), ['code', 'writing']);
    assert.deepEqual(s.bySource.map((b) => [b.label, b.usd]), [['MAOF chat', 2], ['VS Code Chat', 1.5]]);
    assert.equal(s.byDay.length, 30);
    assert.equal(s.byDay[0].label, '2025-05-17');
    assert.deepEqual(s.byDay[29], { label: '2025-06-15', usd: 0.5 });
    assert.equal(s.byDay.find((d) => d.label === '2025-06-01')?.usd, 3);
    assert.ok(!s.byDay.some((d) => d.label === '2025-05-01'), 'older days are outside the chart');
    assert.deepEqual(s.cache, { hits: 4, savedUsd: 0.2, entries: 7, promptSavedUsd: 0, promptByAgent: [] });
  });

  it('dailyBars crosses month ends and tolerates a bad day', () => {
    const bars = dailyBars({ '2025-02-28': 1, '2025-03-01': 2 }, '2025-03-01', 3);
    assert.deepEqual(bars, [{ label: '2025-02-27', usd: 0 }, { label: '2025-02-28', usd: 1 }, { label: '2025-03-01', usd: 2 }]);
    assert.deepEqual(dailyBars({}, 'not-a-day'), []);
  });

  it('lists finished requests newest first with task, outcome and what was pruned', () => {
    const model = new DashboardModel(() => 3);
    model.onEvent({ type: 'request.started', at: T0, requestId: 'r1', task: 'analysis', agents: ['a', 'b'], pattern: 'single' });
    model.onEvent({ type: 'context.pruned', at: T0, requestId: 'r1', agentId: 'a', keptTokens: 10, budgetTokens: 20, dropped: ['big.ts'], truncated: ['app.ts'], redactions: 0 });
    // The fallback agent re-prunes for its window: its report is what was sent.
    model.onEvent({ type: 'context.pruned', at: T0, requestId: 'r1', agentId: 'b', keptTokens: 5, budgetTokens: 8, dropped: ['big.ts', 'util.ts'], truncated: [], redactions: 0 });
    model.onEvent({ type: 'request.finished', at: T0 + 900, requestId: 'r1', ok: true, agentId: 'b', durationMs: 900, costUsd: 0.02, attempts: 3, cached: false });
    run(model, 'r2', { ok: false, at: T0 + 1000 });
    const s = model.snapshot(input({ now: T0 + 2000 }));
    assert.deepEqual(s.recent.map((r) => r.requestId), ['r2', 'r1']);
    const r1 = s.recent[1];
    assert.equal(r1.task, 'analysis');
    assert.equal(r1.agentId, 'b');
    assert.equal(r1.attempts, 3);
    assert.deepEqual(r1.dropped, ['big.ts', 'util.ts']);
    assert.deepEqual(r1.truncated, []);
    assert.equal(s.recent[0].ok, false);
    assert.equal(s.recent[0].errorCode, 'RATE_LIMITED');
    assert.equal(s.inFlight, 0);
  });

  it('marks a request whose cost was estimated (a usage event without provider usage)', () => {
    const model = new DashboardModel(() => 3);
    model.onEvent({ type: 'request.started', at: T0, requestId: 'r1', task: 'code', agents: ['a'], pattern: 'single' });
    model.onEvent({ type: 'usage', at: T0, requestId: 'r1', agentId: 'a', usage: { inputTokens: 9, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.01, estimated: true });
    model.onEvent({ type: 'request.finished', at: T0 + 100, requestId: 'r1', ok: true, agentId: 'a', durationMs: 100, costUsd: 0.01, attempts: 1, cached: false });
    run(model, 'r2', { at: T0 + 200 });
    const s = model.snapshot(input({ now: T0 + 300 }));
    assert.deepEqual(s.recent.map((r) => [r.requestId, r.costEstimated ?? false]), [['r2', false], ['r1', true]]);
  });

  it('keeps only the last requests', () => {
    const model = new DashboardModel(() => 3);
    for (let i = 0; i < RECENT_REQUESTS + 10; i++) run(model, `r${i}`);
    const s = model.snapshot(input());
    assert.equal(s.recent.length, RECENT_REQUESTS);
    assert.equal(s.recent[0].requestId, `r${RECENT_REQUESTS + 9}`);
  });

  it('records latency only for answered, uncached requests', () => {
    const model = new DashboardModel(() => 3);
    run(model, 'r1', { agent: 'a', durationMs: 100 });
    run(model, 'r2', { agent: 'a', durationMs: 300 });
    run(model, 'r3', { agent: 'a', durationMs: 5, cached: true });
    run(model, 'r4', { agent: 'a', durationMs: 60_000, ok: false });
    assert.deepEqual(model.snapshot(input()).latency, [{ agentId: 'a', p50Ms: 100, p95Ms: 300, samples: 2, ttftSamples: 0, deadlineSource: 'off', stalled: 0, failed: 0 }]);
  });

  it('shows each agent\'s time to first token, the deadline in force and its stalls from the core (issue 18 §5)', () => {
    const model = new DashboardModel(() => 3);
    run(model, 'r1', { agent: 'a', durationMs: 900 });
    const report = [
      { agentId: 'a', samples: 12, ttftP50Ms: 310, ttftP95Ms: 820, ok: 12, stalled: 2, failed: 0, firstTokenDeadlineMs: 8_000, firstTokenDeadlineSource: 'learned' as const, idleDeadlineMs: 30_000, outOfCredit: false },
      { agentId: 'b', samples: 0, ok: 0, stalled: 1, failed: 0, firstTokenDeadlineMs: 12_000, firstTokenDeadlineSource: 'cold-start' as const, idleDeadlineMs: 30_000, outOfCredit: false },
      { agentId: 'never-used', samples: 0, ok: 0, stalled: 0, failed: 0, firstTokenDeadlineMs: 12_000, firstTokenDeadlineSource: 'cold-start' as const, outOfCredit: false },
    ];
    assert.deepEqual(model.snapshot(input({ latency: report })).latency, [
      { agentId: 'a', p50Ms: 900, p95Ms: 900, samples: 1, ttftP50Ms: 310, ttftP95Ms: 820, ttftSamples: 12, firstTokenDeadlineMs: 8_000, deadlineSource: 'learned', idleDeadlineMs: 30_000, stalled: 2, failed: 0 },
      { agentId: 'b', samples: 0, ttftSamples: 0, firstTokenDeadlineMs: 12_000, deadlineSource: 'cold-start', idleDeadlineMs: 30_000, stalled: 1, failed: 0 },
    ]);
  });

  it('says when a request was hedged and who won', () => {
    const model = new DashboardModel(() => 3);
    model.onEvent({ type: 'hedge.sent', at: T0, requestId: 'r1', agentId: 'a', hedgeAgentId: 'b', delayMs: 500 });
    model.onEvent({ type: 'hedge.won', at: T0 + 700, requestId: 'r1', agentId: 'b', loserId: 'a' });
    assert.deepEqual(
      model.takeLiveEvents().map((e) => [e.kind, e.text]),
      [
        ['hedge', 'a silent for 500 ms — hedged with b'],
        ['hedge', 'b answered first — a aborted'],
      ],
    );
  });

  it('shows a live retry with the wait left, until the next attempt starts', () => {
    const model = new DashboardModel(() => 4);
    model.onEvent({ type: 'request.started', at: T0, requestId: 'r1', task: 'code', agents: ['a'], pattern: 'single' });
    assert.equal(model.onEvent({ type: 'retry.scheduled', at: T0, requestId: 'r1', agentId: 'a', attempt: 1, waitMs: 3000, code: 'RATE_LIMITED' }), true);
    const during = model.snapshot(input({ now: T0 + 1000 }));
    assert.deepEqual(during.retries, [{ requestId: 'r1', agentId: 'a', nextAttempt: 2, maxAttempts: 4, code: 'RATE_LIMITED', waitMs: 3000, remainingMs: 2000 }]);
    assert.equal(during.inFlight, 1);
    assert.equal(model.snapshot(input({ now: T0 + 9000 })).retries[0].remainingMs, 0);
    model.onEvent({ type: 'attempt', at: T0 + 3000, requestId: 'r1', agentId: 'a', attempt: 2 });
    assert.deepEqual(model.snapshot(input()).retries, []);
  });

  it('turns retries, fallbacks, breaker changes and budget alerts into live events, drained once', () => {
    const model = new DashboardModel(() => 3);
    model.onEvent({ type: 'retry.scheduled', at: T0, requestId: 'r1', agentId: 'gpt-4.1', attempt: 1, waitMs: 2500, code: 'RATE_LIMITED' });
    model.onEvent({ type: 'fallback', at: T0, requestId: 'r1', from: 'gpt-4.1', to: 'claude-sonnet', reason: 'OVERLOADED' });
    model.onEvent({ type: 'breaker.changed', at: T0, agentId: 'gpt-4.1', from: 'closed', to: 'open', reason: 'RATE_LIMITED' });
    model.onEvent({ type: 'budget.alert', at: T0, period: 'month', fraction: 0.8, spentUsd: 16, limitUsd: 20 });
    const texts = model.takeLiveEvents().map((e) => `${e.kind}: ${e.text}`);
    assert.deepEqual(texts, [
      'retry: gpt-4.1 rate-limited — retry 2/3 in 2.5 s',
      'fallback: gpt-4.1 overloaded — falling back to claude-sonnet',
      'breaker: gpt-4.1 breaker closed → open (rate-limited)',
      'budget: Monthly budget 80 % used',
    ]);
    assert.deepEqual(model.takeLiveEvents(), []);
    assert.equal(model.recentLiveEvents().length, 4, 'a page opened later still gets the recent feed');
  });

  it("says how long the failed attempt took, and why an agent of unknown price was skipped", () => {
    const model = new DashboardModel(() => 3);
    model.onEvent({ type: 'retry.scheduled', at: T0, requestId: 'r1', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'TIMEOUT', elapsedMs: 42_000 });
    model.onEvent({ type: 'retry.scheduled', at: T0, requestId: 'r4', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'TIMEOUT', elapsedMs: 30 });
    model.onEvent({ type: 'agent.skipped', at: T0, requestId: 'r2', agentId: 'team-gw', reason: 'PRICE_UNKNOWN' });
    model.onEvent({ type: 'agent.skipped', at: T0, requestId: 'r3', agentId: 'gpt-4.1', reason: 'CONFIG' });
    assert.deepEqual(
      model.takeLiveEvents().map((e) => e.text),
      ['gw timed out after 42 s — retry 2/3 in 1.0 s', 'gw timed out — retry 2/3 in 1.0 s', 'team-gw skipped (no known price)', 'gpt-4.1 skipped (no key)'],
    );
  });

  it('keeps only the last live events for a page opened later', () => {
    const model = new DashboardModel(() => 3);
    for (let i = 0; i < LIVE_HISTORY + 5; i++) model.onEvent({ type: 'cache.hit', at: T0 + i, requestId: `r${i}`, agentId: 'a', savedUsd: 0 });
    const recent = model.recentLiveEvents();
    assert.equal(recent.length, LIVE_HISTORY);
    assert.equal(recent[LIVE_HISTORY - 1].at, T0 + LIVE_HISTORY + 4, 'newest last');
  });

  it('shows each agent breaker with when an open one probes again', () => {
    const model = new DashboardModel(() => 3);
    const s = model.snapshot(
      input({
        now: T0 + 20_000,
        breakers: [
          { agentId: 'a', provider: 'openai', model: 'm', state: 'open', snapshot: { state: 'open', consecutiveFailures: 5, openedAt: T0, lastFailureCode: 'OVERLOADED', recent: [], opens: 1 } },
          { agentId: 'b', provider: 'anthropic', model: 'n', state: 'closed', snapshot: { state: 'closed', consecutiveFailures: 0, recent: [], opens: 0 } },
        ],
      }),
    );
    assert.deepEqual(s.breakers[0], { agentId: 'a', provider: 'openai', model: 'm', state: 'open', consecutiveFailures: 5, opens: 1, lastFailureCode: 'OVERLOADED', retryInMs: 40_000 });
    assert.deepEqual(s.breakers[1], { agentId: 'b', provider: 'anthropic', model: 'n', state: 'closed', consecutiveFailures: 0, opens: 0 });
  });

  it('forgets requests that never finish instead of growing without end', () => {
    const model = new DashboardModel(() => 3);
    for (let i = 0; i < 2_000; i++) model.onEvent({ type: 'request.started', at: T0, requestId: `r${i}`, task: 'code', agents: [], pattern: 'single' });
    assert.ok(model.inFlightCount <= 500);
  });
});

describe('DashboardModel: provider prompt cache', () => {
  it('shows each agent\'s prompt-cache hit rate and savings apart from the response cache, and a lost cache as activity', () => {
    const m = new DashboardModel(() => 3);
    const usage = (agentId: string, input: number, read: number, write: number, saved?: number): void => {
      m.onEvent({ type: 'usage', at: T0, requestId: `r-${agentId}-${input}`, agentId, usage: { inputTokens: input, outputTokens: 10, cacheReadTokens: read, cacheWriteTokens: write }, costUsd: 0.01, ...(saved !== undefined ? { promptCacheSavedUsd: saved } : {}) });
    };
    usage('claude', 100, 0, 9_900, -0.0074);
    usage('claude', 100, 9_900, 0, 0.0267);
    usage('gpt', 500, 0, 0);
    m.onEvent({ type: 'promptCache.lost', at: T0, requestId: 'r9', from: 'claude', to: 'gpt', reason: 'OVERLOADED', cachedTokens: 9_900, extraCostUsd: 0.0168 });
    const s = m.snapshot(input());
    assert.equal(s.cache.savedUsd, 0.2, 'the response cache keeps its own figure');
    assert.ok(Math.abs(s.cache.promptSavedUsd - 0.0193) < 1e-12);
    assert.deepEqual(s.cache.promptByAgent.map((a) => [a.agentId, a.hitRate, a.cachedTokens, a.inputTokens]), [
      ['claude', 0.495, 9_900, 20_000],
      ['gpt', 0, 0, 500],
    ]);
    assert.match(m.recentLiveEvents().at(-1)?.text ?? '', /gpt answered instead of claude \(overloaded\): prompt cache of 9,900 tokens lost, ≈\$0\.02 more/);
  });
});

describe('DashboardModel: a past month picked from the history', () => {
  const february = { month: '2024-02', monthUsd: 7.25, byAgent: { 'gpt-4.1': 7, idle: 0 }, byTask: { code: 7.25 }, bySource: { CLI: 7.25 }, byDay: { '2024-02-29': 7.25 }, requests: 31, cacheHits: 2, savedUsd: 0.5 };

  it('shows that month’s spend, requests, cache hits and every one of its days, and keeps the budget’s month', () => {
    const s = new DashboardModel(() => 3).snapshot(input({ pastMonth: february, months: ['2025-05', '2024-02'] }));
    assert.deepEqual(s.view, { month: '2024-02', current: false, months: ['2025-06', '2025-05', '2024-02'], monthUsd: 7.25 });
    assert.deepEqual(s.byAgent, [{ label: 'gpt-4.1', usd: 7 }]);
    assert.deepEqual([s.spend.requests, s.cache.hits, s.cache.savedUsd], [31, 2, 0.5]);
    assert.equal(s.byDay.length, 29, 'a leap February');
    assert.deepEqual([s.byDay[0], s.byDay[28]], [{ label: '2024-02-01', usd: 0 }, { label: '2024-02-29', usd: 7.25 }]);
    // The budget card is this month's whatever month is shown.
    assert.deepEqual([s.spend.month, s.spend.monthUsd], ['2025-06', 3.5]);
  });

  it('shows the current month from the ledger when none (or the current one) is picked', () => {
    for (const pastMonth of [undefined, { ...february, month: '2025-06' }]) {
      const s = new DashboardModel(() => 3).snapshot(input(pastMonth ? { pastMonth } : {}));
      assert.deepEqual(s.view, { month: '2025-06', current: true, months: ['2025-06'] });
      assert.equal(s.spend.requests, 12);
      assert.equal(s.byDay.length, 30);
    }
    assert.equal(monthDayBars({}, '2025-04').length, 30);
    assert.deepEqual(monthDayBars({}, 'nonsense'), []);
  });
});

