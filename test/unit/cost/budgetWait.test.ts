// Budget waits (issue 14): a reservation that does not fit only because of others in flight waits,
// first come first served, and is refused only when settled spend plus its own worst case cannot fit.
import assert from 'node:assert/strict';
import { budgetSchema } from '../../../src/core/config/schema';
import { CostLedger, type Reservation } from '../../../src/core/cost/costLedger';
import { MaofError } from '../../../src/core/errors';
import { MemoryStateStore } from '../../../src/core/ports';
import { FakeClock } from '../helpers/fakeClock';

const USAGE = { inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 };

function ledgerWith(budget: Record<string, unknown>) {
  const clock = new FakeClock();
  const ledger = new CostLedger({ store: new MemoryStateStore(), clock, policy: budgetSchema.parse(budget) });
  const settle = (r: Reservation, costUsd: number): void => ledger.settle(r, { requestId: r.id, agentId: 'a', model: 'm', task: 'code', usage: USAGE, costUsd, cached: false });
  return { clock, ledger, settle };
}

function track(p: Reservation | Promise<Reservation>) {
  const out: { value?: Reservation; error?: unknown; done: boolean } = { done: false };
  Promise.resolve(p).then(
    (v) => Object.assign(out, { value: v, done: true }),
    (e: unknown) => Object.assign(out, { error: e, done: true }),
  );
  return out;
}

const tick = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('CostLedger budget waits', () => {
  it('a request that fits once reservations in flight settle waits for them instead of being refused', async () => {
    const { clock, ledger, settle } = ledgerWith({ monthlyUsd: 1 });
    const first = ledger.tryReserve(0.6)!;
    assert.equal(ledger.tryReserve(0.6), undefined, 'does not fit beside the first');
    const waiting = track(ledger.reserveOrWait(0.6, { agentId: 'a', deadline: clock.now() + 10_000 }));
    await tick();
    assert.equal(waiting.done, false, 'waits rather than fails');
    assert.equal(ledger.waiting, 1);
    settle(first, 0.1);
    await tick();
    assert.ok(waiting.value, 'served once the first settled to its real cost');
    const s = ledger.summary();
    assert.ok(s.monthUsd + s.reservedUsd <= 1);
  });

  it('serves waiters first come, first served, and a newcomer queues behind them', async () => {
    const { clock, ledger, settle } = ledgerWith({ monthlyUsd: 1 });
    const held = ledger.tryReserve(0.9)!;
    const order: string[] = [];
    const a = Promise.resolve(ledger.reserveOrWait(0.5, { deadline: clock.now() + 10_000 })).then((r) => (order.push('a'), r));
    const b = Promise.resolve(ledger.reserveOrWait(0.1, { deadline: clock.now() + 10_000 })).then((r) => (order.push('b'), r));
    await tick();
    assert.equal(ledger.tryReserve(0.05), undefined, 'a newcomer does not jump the queue, even when it would fit');
    settle(held, 0.2);
    await Promise.all([a, b]);
    assert.deepEqual(order, ['a', 'b']);
  });

  it('is refused at once when settled spend plus its own worst case exceeds the limit, saying what is left and the fixes', () => {
    const { ledger, settle, clock } = ledgerWith({ monthlyUsd: 0.02 });
    settle(ledger.tryReserve(0.0188)!, 0.0188);
    assert.throws(
      () => ledger.reserveOrWait(0.0017, { agentId: 'gpt', maxOutputTokens: 1000, deadline: clock.now() + 1000 }),
      (err: unknown) => {
        assert.ok(err instanceof MaofError && err.code === 'BUDGET_EXCEEDED');
        assert.match(err.message, /needs up to \$0\.0017, \$0\.0012 left this month/);
        assert.match(err.message, /raise maof\.budget\.monthlyUsd or lower agent "gpt"'s maxOutputTokens \(1,000 now\)/);
        return true;
      },
    );
  });

  it('a waiter that can no longer fit once others settled is refused then, not served over the limit', async () => {
    const { clock, ledger, settle } = ledgerWith({ monthlyUsd: 1 });
    const first = ledger.tryReserve(0.6)!;
    const waiting = track(ledger.reserveOrWait(0.5, { deadline: clock.now() + 10_000 }));
    settle(first, 0.6);
    await tick();
    assert.ok(waiting.error instanceof MaofError && waiting.error.code === 'BUDGET_EXCEEDED');
    assert.equal(ledger.summary().reservedUsd, 0);
  });

  it('gives up at its deadline and on cancel, leaving nothing reserved', async () => {
    const { clock, ledger } = ledgerWith({ monthlyUsd: 1 });
    ledger.tryReserve(0.9);
    const late = track(ledger.reserveOrWait(0.5, { deadline: clock.now() + 5_000 }));
    const ac = new AbortController();
    const cancelled = track(ledger.reserveOrWait(0.5, { deadline: clock.now() + 60_000, signal: ac.signal }));
    ac.abort();
    await tick();
    assert.ok(cancelled.error instanceof MaofError && cancelled.error.code === 'CANCELLED');
    await clock.advance(4_999);
    assert.equal(late.done, false);
    await clock.advance(1);
    assert.ok(late.error instanceof MaofError && late.error.code === 'BUDGET_EXCEEDED');
    assert.match((late.error).message, /held by requests still in flight/);
    assert.equal(ledger.waiting, 0);
    assert.ok(Math.abs(ledger.summary().reservedUsd - 0.9) < 1e-9);
  });
});
