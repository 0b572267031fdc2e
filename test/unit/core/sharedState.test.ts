// Issue 19 §3 and §4: what one MAOF process learns reaches the others through the shared ledger —
// a breaker opened in one shows open in the other (with a breaker.changed event for its views), a
// key paused by a 429 is paused for every process — and every request leaves a history row with
// its outcome, total time and time to first token.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Orchestrator } from '../../../src/core/orchestrator';
import { SqliteStore, CHANGE_POLL_MS } from '../../../src/core/persistence/sqliteStore';
import { UsageHistory } from '../../../src/core/persistence/usageHistory';
import type { RateLimiter } from '../../../src/core/resilience/rateLimiter';
import type { MaofEvent } from '../../../src/core/events';
import { userTurn } from '../../../src/core/types';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { MapSecrets, OPENAI_KEY, ANTHROPIC_KEY, simConfig } from '../helpers/orchestratorHarness';

async function until(what: string, check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('shared state across MAOF processes (one SQLite ledger)', function () {
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  const stores: SqliteStore[] = [];
  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  function two(): [Orchestrator, Orchestrator, MaofEvent[]] {
    const file = join(mkdtempSync(join(tmpdir(), 'maof-shared-')), 'maof.db');
    const make = (): Orchestrator => {
      const store = new SqliteStore(file);
      stores.push(store);
      return new Orchestrator({ config: simConfig(addr), secrets: new MapSecrets({ 'provider:openai': OPENAI_KEY, 'provider:anthropic': ANTHROPIC_KEY }), store });
    };
    const a = make();
    const b = make();
    const seenByB: MaofEvent[] = [];
    b.events.on((e) => seenByB.push(e));
    return [a, b, seenByB];
  }

  it('a breaker opened in one process shows open in the other, with an event for its views', async () => {
    const [a, b, seenByB] = two();
    assert.equal(b.breakers.get('oa').state, 'closed');
    for (let i = 0; i < 3; i++) a.breakers.get('oa').recordFailure('UPSTREAM');
    assert.equal(a.breakers.get('oa').state, 'open');
    await until('B sees the breaker open', () => b.breakers.get('oa').state === 'open', CHANGE_POLL_MS * 4 + 2_000);
    assert.ok(seenByB.some((e) => e.type === 'breaker.changed' && e.agentId === 'oa' && e.to === 'open'), 'B told its views');
    a.retryNow('oa');
    await until('B sees it closed again after A reset it', () => b.breakers.get('oa').state === 'closed', CHANGE_POLL_MS * 4 + 2_000);
  });

  it('a key paused by a 429 in one process is paused in the other', async () => {
    const [a, b] = two();
    const limiterOf = (o: Orchestrator): RateLimiter => (o as unknown as { limiter: RateLimiter }).limiter;
    const until429 = limiterOf(a).rateLimited('key-1', 30_000);
    await until('B sees the pause', () => limiterOf(b).pausedUntil('key-1') !== undefined, CHANGE_POLL_MS * 4 + 2_000);
    assert.equal(limiterOf(b).pausedUntil('key-1'), until429);
  });

  it('every request leaves a history row with its outcome, total time and time to first token', async () => {
    const [a] = two();
    sim.reset();
    sim.setLatency(30);
    const r = await a.run({ messages: [userTurn('stream me a haiku')], task: 'code', stream: true, onDelta: () => undefined, source: 'CLI' });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const [row] = new UsageHistory(stores[0]).rows() ?? [];
    assert.ok(row, 'one row');
    assert.equal(row.outcome, 'ok');
    assert.equal(row.source, 'CLI');
    assert.ok(row.totalMs !== undefined && row.totalMs >= 30, `total time ${row.totalMs}`);
    assert.ok(row.ttftMs !== undefined && row.ttftMs <= row.totalMs, `time to first token ${row.ttftMs}`);
    assert.ok(row.costNano > 0 && row.inputTokens > 0 && row.outputTokens > 0);
  });
});
