import assert from 'node:assert/strict';
import { budgetSchema, type BudgetPolicy } from '../../../src/core/config/schema';
import { budgetHeadroom, CostLedger, LEDGER_STATE_KEY, type BudgetAlert, type LedgerEntry, type Reservation } from '../../../src/core/cost/costLedger';
import { MaofError } from '../../../src/core/errors';
import { MemoryStateStore, type Logger, type StateStore } from '../../../src/core/ports';
import { FakeClock } from '../helpers/fakeClock';

const JUNE_15 = Date.UTC(2025, 5, 15, 12, 0, 0);
const DAY = 86_400_000;

function policy(input: Record<string, unknown> = {}): BudgetPolicy {
  return budgetSchema.parse(input);
}

class RecordingLogger implements Logger {
  readonly warnings: string[] = [];
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(): void {}
}

function entry(costUsd: number, over: Partial<Omit<LedgerEntry, 'at'>> = {}): Omit<LedgerEntry, 'at'> {
  return {
    requestId: over.requestId ?? `req-${Math.random().toString(36).slice(2)}`,
    agentId: 'gpt',
    model: 'gpt-4.1',
    task: 'code',
    usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0 },
    cached: false,
    ...over,
    costUsd,
  };
}

function setup(budget: Record<string, unknown> = {}, opts: { store?: StateStore; clock?: FakeClock } = {}) {
  const store = opts.store ?? new MemoryStateStore();
  const clock = opts.clock ?? new FakeClock(JUNE_15);
  const alerts: BudgetAlert[] = [];
  const logger = new RecordingLogger();
  const ledger = new CostLedger({ store, clock, policy: policy(budget), onAlert: (a) => alerts.push(a), logger });
  /** Reserve-and-settle, as a finished request does. */
  const spend = (costUsd: number, over: Partial<Omit<LedgerEntry, 'at'>> = {}): void => {
    ledger.settle(reserveNow(ledger, costUsd, over.agentId), entry(costUsd, over));
  };
  return { store, clock, alerts, logger, ledger, spend };
}

/** A reservation made now, or the ledger's refusal thrown (these tests never wait for budget held in flight). */
function reserveNow(ledger: CostLedger, usd: number, agentId?: string): Reservation {
  const r = ledger.reserveOrWait(usd, { agentId, deadline: Number.MAX_SAFE_INTEGER });
  assert.ok(!(r instanceof Promise), 'fits beside the reservations in flight');
  return r;
}

function budgetError(fn: () => unknown): MaofError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MaofError, `expected a MaofError, got ${String(err)}`);
    assert.equal(err.code, 'BUDGET_EXCEEDED');
    return err;
  }
  assert.fail('expected BUDGET_EXCEEDED');
}

describe('CostLedger', () => {
  it('adds spend up by who asked, keeps it across a restart, and reads files written before sources existed', async () => {
    const { ledger, spend, store, clock } = setup();
    spend(0.5, { source: 'MAOF chat' });
    spend(0.25, { source: 'VS Code Language Model API' });
    spend(0.25, { source: 'VS Code Language Model API' });
    spend(0.1);
    assert.deepEqual(ledger.summary().bySource, { 'MAOF chat': 0.5, 'VS Code Language Model API': 0.5, other: 0.1 });
    assert.equal(ledger.recent(1)[0].source, undefined, 'an entry without a source stays without one');
    await ledger.flush();
    const again = new CostLedger({ store, clock, policy: policy({}) });
    assert.deepEqual(again.summary().bySource, { 'MAOF chat': 0.5, 'VS Code Language Model API': 0.5, other: 0.1 });
    assert.equal(again.recent(4).filter((e) => e.source === 'VS Code Language Model API').length, 2);

    const old = new MemoryStateStore();
    const persisted = store.get(LEDGER_STATE_KEY) as Record<string, unknown>;
    const { bySource: _dropped, ...withoutSources } = persisted;
    await old.update(LEDGER_STATE_KEY, withoutSources);
    const fromOld = new CostLedger({ store: old, clock, policy: policy({}) });
    assert.equal(fromOld.summary().monthUsd, 1.1, 'the spend of an older file is all there');
    assert.deepEqual(fromOld.summary().bySource, {});
  });

  it('holds a reservation until it is settled to the real cost or released', () => {
    const { ledger } = setup({ monthlyUsd: 10 });
    const r1 = reserveNow(ledger, 1);
    assert.equal(ledger.summary().reservedUsd, 1);
    assert.equal(ledger.summary().monthUsd, 0);
    ledger.settle(r1, entry(0.25));
    assert.equal(ledger.summary().reservedUsd, 0);
    assert.equal(ledger.summary().monthUsd, 0.25);
    const r2 = reserveNow(ledger, 2);
    ledger.release(r2);
    const s = ledger.summary();
    assert.equal(s.reservedUsd, 0);
    assert.equal(s.monthUsd, 0.25);
    assert.equal(s.requests, 1);
  });

  it('sums money without float drift', () => {
    const { ledger, spend } = setup();
    spend(0.1);
    spend(0.2);
    assert.equal(ledger.summary().monthUsd, 0.3);
  });

  it('refuses a request that would pass the monthly budget, naming the limit and the fix', () => {
    const { ledger, spend } = setup({ monthlyUsd: 20 });
    spend(19.87);
    const err = budgetError(() => reserveNow(ledger, 0.42));
    assert.equal(err.message, 'Monthly budget of $20.00 reached ($19.87 spent; this request needs up to $0.42) — raise maof.budget.monthlyUsd or wait until next month.');
    assert.equal(ledger.summary().reservedUsd, 0, 'a refused reservation holds nothing');
    // What still fits is allowed.
    ledger.release(reserveNow(ledger, 0.13));
  });

  it('says a request is too big for what is left when the budget is far from reached', () => {
    const { ledger, spend } = setup({ monthlyUsd: 20 });
    spend(5);
    const err = budgetError(() => reserveNow(ledger, 16));
    assert.equal(err.message, "This request needs up to $16.00, $15.00 left this month — raise maof.budget.monthlyUsd or lower the agent's maxOutputTokens.");
  });

  it('enforces the per-request limit', () => {
    const { ledger } = setup({ perRequestUsd: 0.25 });
    const err = budgetError(() => reserveNow(ledger, 0.42));
    assert.equal(err.message, "This request needs up to $0.42, above the per-request limit of $0.25 — select less context, raise maof.budget.perRequestUsd or lower the agent's maxOutputTokens.");
    ledger.release(reserveNow(ledger, 0.25));
  });

  it('enforces the daily limit and lifts it the next UTC day', async () => {
    const { ledger, spend, clock } = setup({ dailyUsd: 1, monthlyUsd: 100 });
    spend(1);
    const err = budgetError(() => reserveNow(ledger, 0.01));
    assert.match(err.message, /^Daily budget of \$1\.00 reached \(\$1\.00 spent; this request needs up to \$0\.01\) — raise maof\.budget\.dailyUsd/);
    await clock.advance(DAY);
    ledger.release(reserveNow(ledger, 0.5));
    assert.equal(ledger.summary().dayUsd, 0);
    assert.equal(ledger.summary().monthUsd, 1);
  });

  it('counts in-flight reservations: 64 concurrent requests against a budget that affords 10 → exactly 10 go', async () => {
    const { ledger, clock } = setup({ monthlyUsd: 1 });
    let refused = 0;
    const request = async (i: number): Promise<boolean> => {
      await Promise.resolve();
      // Refused now, not queued: what does not fit beside the reservations in flight gets none.
      const reservation = ledger.tryReserve(0.1);
      if (!reservation) {
        refused++;
        return false;
      }
      await clock.sleep(10 + (i % 7)); // the upstream call
      ledger.settle(reservation, entry(0.1, { requestId: `r${i}` }));
      return true;
    };
    const all = Promise.all(Array.from({ length: 64 }, (_, i) => request(i)));
    await clock.advance(100);
    const results = await all;
    assert.equal(results.filter(Boolean).length, 10);
    assert.equal(refused, 54);
    const s = ledger.summary();
    assert.equal(s.monthUsd, 1);
    assert.ok(s.monthUsd <= s.monthlyLimitUsd!);
    assert.equal(s.reservedUsd, 0);
  });

  it('a real cost below the worst case frees headroom', () => {
    const { ledger } = setup({ monthlyUsd: 1 });
    const first = reserveNow(ledger, 0.6);
    assert.equal(ledger.tryReserve(0.6), undefined, 'does not fit beside the first');
    ledger.settle(first, entry(0.1));
    ledger.release(reserveNow(ledger, 0.6));
    assert.equal(budgetHeadroom(ledger.summary()), 0.9);
  });

  it('settle and release are idempotent', () => {
    const { ledger } = setup({ monthlyUsd: 10 });
    const r = reserveNow(ledger, 2);
    ledger.settle(r, entry(1));
    ledger.settle(r, entry(1));
    ledger.release(r);
    const r2 = reserveNow(ledger, 3);
    ledger.release(r2);
    ledger.release(r2);
    const s = ledger.summary();
    assert.equal(s.monthUsd, 1);
    assert.equal(s.requests, 1);
    assert.equal(s.reservedUsd, 0);
    assert.equal(budgetHeadroom(s), 9);
  });

  it('fires an alert once at 80 % and once at 100 %, and not again after a restart', async () => {
    const { ledger, spend, alerts, store, clock } = setup({ monthlyUsd: 10 });
    spend(7.9);
    assert.equal(alerts.length, 0);
    spend(0.2);
    assert.deepEqual(alerts, [{ period: 'month', fraction: 0.8, spentUsd: 8.1, limitUsd: 10 }]);
    spend(0.1);
    assert.equal(alerts.length, 1);
    assert.equal(ledger.summary().monthAlert, 0.8);
    await ledger.flush();

    const restarted = setup({ monthlyUsd: 10 }, { store, clock });
    restarted.spend(0.1);
    assert.equal(restarted.alerts.length, 0, 'no repeat of the 80 % alert after a restart');
    restarted.spend(1.7);
    assert.deepEqual(restarted.alerts, [{ period: 'month', fraction: 1, spentUsd: 10, limitUsd: 10 }]);
    assert.equal(restarted.ledger.summary().monthAlert, 1);
  });

  it('alerts on the daily limit and again in a new day', async () => {
    const { spend, alerts, clock } = setup({ dailyUsd: 1, alertAt: [0.5, 0.8] });
    spend(0.9); // crosses 50 % and 80 % at once: one alert, the higher one
    assert.deepEqual(alerts, [{ period: 'day', fraction: 0.8, spentUsd: 0.9, limitUsd: 1 }]);
    await clock.advance(DAY);
    spend(0.6);
    assert.deepEqual(alerts[1], { period: 'day', fraction: 0.5, spentUsd: 0.6, limitUsd: 1 });
  });

  it('starts a new month at zero but keeps the per-day history', async () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 30, 23, 0, 0));
    const { ledger, spend, alerts } = setup({ monthlyUsd: 10 }, { clock });
    spend(9, { agentId: 'claude', task: 'writing' });
    assert.equal(alerts.length, 1);
    budgetError(() => reserveNow(ledger, 2));
    await clock.advance(2 * 60 * 60 * 1000); // 01:00 on 1 July
    const s = ledger.summary();
    assert.equal(s.month, '2025-07');
    assert.equal(s.monthUsd, 0);
    assert.deepEqual(s.byAgent, {});
    assert.equal(s.requests, 0);
    assert.equal(s.monthAlert, undefined);
    assert.deepEqual(s.byDay, { '2025-06-30': 9 });
    spend(2);
    assert.equal(ledger.summary().monthUsd, 2);
    spend(6.5);
    assert.equal(alerts.length, 2, 'a new month alerts afresh');
  });

  it('round-trips through the state store', async () => {
    const { ledger, spend, store, clock } = setup({ monthlyUsd: 50 });
    spend(1.5, { agentId: 'gpt', task: 'code' });
    spend(0.25, { agentId: 'claude', task: 'writing' });
    ledger.recordCacheHit({ requestId: 'hit-1', agentId: 'claude', task: 'writing', savedUsd: 0.25 });
    await ledger.flush();
    const again = setup({ monthlyUsd: 50 }, { store, clock });
    assert.deepEqual(again.ledger.summary(), ledger.summary());
    assert.deepEqual(again.ledger.recent(10), ledger.recent(10));
    assert.equal(again.logger.warnings.length, 0);
  });

  it('summarises spend by agent, task and day; recent() is newest first', async () => {
    const { ledger, spend, clock } = setup();
    spend(1, { agentId: 'gpt', task: 'code', requestId: 'a' });
    spend(2, { agentId: 'claude', task: 'writing', requestId: 'b' });
    await clock.advance(DAY);
    spend(0.5, { agentId: 'gpt', task: 'analysis', requestId: 'c' });
    ledger.recordCacheHit({ requestId: 'd', agentId: 'gpt', task: 'code', savedUsd: 1 });
    const s = ledger.summary();
    assert.deepEqual(s.byAgent, { gpt: 1.5, claude: 2 });
    assert.deepEqual(s.byTask, { code: 1, writing: 2, analysis: 0.5 });
    assert.deepEqual(s.byDay, { '2025-06-15': 3, '2025-06-16': 0.5 });
    assert.equal(s.dayUsd, 0.5);
    assert.equal(s.monthUsd, 3.5);
    assert.equal(s.requests, 3);
    assert.equal(s.cacheHits, 1);
    assert.equal(s.savedUsd, 1);
    const recent = ledger.recent(3);
    assert.deepEqual(recent.map((e) => e.requestId), ['d', 'c', 'b']);
    assert.equal(recent[0].cached, true);
    assert.equal(recent[0].costUsd, 0);
    assert.equal(recent[1].at, JUNE_15 + DAY);
  });

  it('keeps the last 500 entries and ~400 days, not everything', async () => {
    const { ledger, spend, clock } = setup();
    for (let i = 0; i < 510; i++) spend(0.001, { requestId: `r${i}` });
    assert.equal(ledger.recent(1000).length, 500);
    assert.equal(ledger.recent(1)[0].requestId, 'r509');
    await clock.advance(401 * DAY);
    spend(1);
    assert.deepEqual(Object.keys(ledger.summary().byDay), ['2026-07-21']);
  });

  it('coalesces writes: one in flight, one pending, and the last write holds the latest state', async () => {
    const inner = new MemoryStateStore();
    const writes: unknown[] = [];
    const gates: Array<() => void> = [];
    const store: StateStore = {
      get: (key) => inner.get(key),
      update: (key, value) => {
        writes.push(value);
        return new Promise<void>((resolve) => gates.push(() => void inner.update(key, value).then(resolve)));
      },
    };
    const { ledger, spend } = setup({}, { store });
    spend(1);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(writes.length, 1, 'first write started');
    for (let i = 0; i < 5; i++) spend(1);
    const flushed = ledger.flush();
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 2, 'five settles during a write make one more write');
    gates.shift()!();
    await flushed;
    assert.equal(writes.length, 2);
    const reloaded = setup({}, { store: inner });
    assert.equal(reloaded.ledger.summary().monthUsd, 6);
    assert.equal(reloaded.ledger.summary().requests, 6);
  });

  it('survives corrupted stored state: no throw, a warning, and what can be salvaged', () => {
    const garbage = new MemoryStateStore();
    void garbage.update(LEDGER_STATE_KEY, 'not a ledger');
    const a = setup({ monthlyUsd: 10 }, { store: garbage });
    assert.equal(a.ledger.summary().monthUsd, 0);
    assert.equal(a.logger.warnings.length, 1);

    const partial = new MemoryStateStore();
    void partial.update(LEDGER_STATE_KEY, {
      v: 1,
      month: '2025-06',
      byDay: { '2025-06-15': 2_000_000_000, '2025-06-14': 'lots', yesterday: 5 },
      byAgent: 'oops',
      byTask: { code: 2_000_000_000 },
      requests: -3,
      cacheHits: 1,
      savedNano: 0,
      alerts: { month: { period: '2025-06', limitNano: 10_000_000_000, fractions: [0.8, 'x'] } },
      entries: [{ ...entry(2, { requestId: 'good' }), at: JUNE_15 }, { requestId: 'bad' }, null],
    });
    const b = setup({ monthlyUsd: 10 }, { store: partial });
    const s = b.ledger.summary();
    assert.equal(s.monthUsd, 2);
    assert.deepEqual(s.byTask, { code: 2 });
    assert.deepEqual(s.byAgent, {});
    assert.equal(s.requests, 0);
    assert.equal(s.cacheHits, 1);
    assert.deepEqual(b.ledger.recent(10).map((e) => e.requestId), ['good']);
    assert.equal(b.logger.warnings.length, 1);
    assert.match(b.logger.warnings[0], /byAgent/);
    assert.match(b.logger.warnings[0], /entries: dropped 2/);

    const throwing: StateStore = {
      get: () => {
        throw new SyntaxError('Unexpected end of JSON input');
      },
      update: () => Promise.resolve(),
    };
    const c = setup({}, { store: throwing });
    assert.equal(c.ledger.summary().monthUsd, 0);
    assert.equal(c.logger.warnings.length, 1);
  });

  it('a failed write is logged and the next settle saves everything', async () => {
    const inner = new MemoryStateStore();
    let fail = true;
    const store: StateStore = {
      get: (key) => inner.get(key),
      update: (key, value) => (fail ? Promise.reject(new Error('disk full')) : inner.update(key, value)),
    };
    const { ledger, spend, logger } = setup({}, { store });
    spend(1);
    await ledger.flush();
    assert.equal(logger.warnings.length, 1);
    fail = false;
    spend(2);
    await ledger.flush();
    assert.equal(setup({}, { store: inner }).ledger.summary().monthUsd, 3);
  });

  it('a lowered limit alerts at once and applies to the next reservation', () => {
    const { ledger, spend, alerts } = setup({ monthlyUsd: 100 });
    spend(9);
    assert.equal(alerts.length, 0);
    ledger.setPolicy(policy({ monthlyUsd: 10 }));
    assert.deepEqual(alerts, [{ period: 'month', fraction: 0.8, spentUsd: 9, limitUsd: 10 }]);
    budgetError(() => reserveNow(ledger, 1.5));
    assert.equal(budgetHeadroom(ledger.summary()), 1);
    ledger.setPolicy(policy({}));
    assert.equal(budgetHeadroom(ledger.summary()), undefined);
    ledger.release(reserveNow(ledger, 1.5));
  });

  it('never refuses a free request and rejects a nonsensical estimate', () => {
    const { ledger, spend } = setup({ monthlyUsd: 1 });
    spend(1);
    ledger.release(reserveNow(ledger, 0));
    assert.throws(() => reserveNow(ledger, Number.NaN), (err: unknown) => err instanceof MaofError && err.code === 'BAD_REQUEST');
  });
});
