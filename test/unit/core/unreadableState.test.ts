// Spend history is never erased: a state file that exists but cannot be read (EACCES, EIO, a
// directory in its place) or parsed keeps its bytes, the budget refuses what costs money while a
// limit is set, and the ledger and breakers it held are all there once the file is readable again.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakerSchema, budgetSchema, parseConfig } from '../../../src/core/config/schema';
import { CostLedger, LEDGER_STATE_KEY, type Reservation } from '../../../src/core/cost/costLedger';
import { MaofError } from '../../../src/core/errors';
import { BREAKER_STATE_KEY, Orchestrator } from '../../../src/core/orchestrator';
import { FileStateStore, type FileStateStoreOptions } from '../../../src/core/persistence/fileStateStore';
import { silentLogger } from '../../../src/core/ports';
import { BreakerRegistry } from '../../../src/core/resilience/circuitBreaker';
import { FakeClock } from '../helpers/fakeClock';

const JUNE_15 = Date.UTC(2025, 5, 15, 12, 0, 0);

function entry(costUsd: number): Parameters<CostLedger['settle']>[1] {
  return { requestId: `r-${costUsd}`, agentId: 'gpt-4.1', model: 'gpt-4.1', task: 'code', usage: { inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 }, cached: false, costUsd };
}

/** A reservation made now, or the ledger's refusal thrown (these tests never wait for budget held in flight). */
function reserveNow(ledger: CostLedger, usd: number): Reservation {
  const r = ledger.reserveOrWait(usd, { deadline: Number.MAX_SAFE_INTEGER });
  assert.ok(!(r instanceof Promise), 'fits beside the reservations in flight');
  return r;
}

function refusal(fn: () => unknown): MaofError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MaofError && err.code === 'BUDGET_EXCEEDED', `expected BUDGET_EXCEEDED, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

describe('an unreadable or damaged state file', () => {
  let dir: string;
  let file: string;
  const clock = (): FakeClock => new FakeClock(JUNE_15);

  /** A real state file: $8 spent this month, agent "oa" with an open breaker. */
  async function writeGoodState(): Promise<string> {
    const store = new FileStateStore(file);
    const c = clock();
    const ledger = new CostLedger({ store, clock: c, policy: budgetSchema.parse({}) });
    ledger.settle(reserveNow(ledger, 8), entry(8));
    const breakers = new BreakerRegistry(breakerSchema.parse({ failureThreshold: 1, resetTimeoutMs: 3_600_000 }), c);
    breakers.get('oa').recordFailure('UPSTREAM');
    await store.update(BREAKER_STATE_KEY, breakers.snapshots());
    await ledger.flush();
    await store.flush();
    return readFileSync(file, 'utf8');
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maof-unreadable-'));
    file = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; make: (good: string) => FileStateStoreOptions }> = [
    { name: 'EACCES', make: () => ({ readFile: () => { throw Object.assign(new Error('EACCES: simulated'), { code: 'EACCES' }); } }) },
    { name: 'EIO', make: () => ({ readFile: () => { throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' }); } }) },
    { name: 'garbage', make: () => { writeFileSync(file, '\u0000\u0017not json at all'); return {}; } },
  ];

  for (const c of cases) {
    it(`${c.name}: paid requests are refused under a limit, naming the state file and the fix; $0 requests and no-limit setups go on`, async () => {
      const good = await writeGoodState();
      const opts = c.make(good);
      const before = readFileSync(file, 'utf8');
      const store = new FileStateStore(file, silentLogger, { ...opts, resetHint: 'run "MAOF: Reset Spend History"' });
      const limited = new CostLedger({ store, clock: clock(), policy: budgetSchema.parse({ monthlyUsd: 10 }) });
      const err = refusal(() => reserveNow(limited, 0.01));
      assert.ok(err.message.includes(file), 'names the state file');
      assert.match(err.message, /Reset Spend History/);
      assert.equal(limited.summary().monthUsd, 0);
      limited.release(reserveNow(limited, 0)); // a local model costs nothing and is never refused
      refusal(() => reserveNow(new CostLedger({ store, clock: clock(), policy: budgetSchema.parse({ dailyUsd: 1 }) }), 0.01));

      // Without a limit there is nothing to enforce: the request runs, the file is still not replaced.
      const unlimited = new CostLedger({ store, clock: clock(), policy: budgetSchema.parse({ perRequestUsd: 5 }) });
      unlimited.settle(reserveNow(unlimited, 0.5), entry(0.5));
      await unlimited.flush();
      await store.flush();
      assert.equal(readFileSync(file, 'utf8'), before, 'the file was not overwritten');
    });
  }

  for (const c of cases.slice(0, 2)) {
    it(`${c.name}: once the file reads again, the whole ledger and the open breaker are back`, async () => {
      const good = await writeGoodState();
      const broken = new FileStateStore(file, silentLogger, c.make(good));
      const orchestrator = new Orchestrator({ config: parseConfig({ breaker: { failureThreshold: 1 } }).config, secrets: { get: () => Promise.resolve(undefined) }, store: broken, clock: clock() });
      assert.equal(orchestrator.breakers.get('oa').state, 'closed', 'unknown, so not open in this session');
      orchestrator.breakers.get('gpt-4.1').recordFailure('UPSTREAM'); // a breaker change is saved — or would be
      orchestrator.breakers.reset('oa');
      await orchestrator.flush();
      await broken.flush();
      assert.equal(readFileSync(file, 'utf8'), good, 'neither the ledger nor the breakers were overwritten');

      // The user fixed the permissions (or the disk) and restarted.
      const fixed = new FileStateStore(file);
      assert.equal(fixed.problem, undefined);
      const ledger = new CostLedger({ store: fixed, clock: clock(), policy: budgetSchema.parse({ monthlyUsd: 10 }) });
      assert.equal(ledger.summary().monthUsd, 8);
      const reg = new BreakerRegistry(breakerSchema.parse({ resetTimeoutMs: 3_600_000 }), clock());
      reg.restore(fixed.get(BREAKER_STATE_KEY));
      assert.equal(reg.get('oa').state, 'open');
    });
  }

  it('a directory in place of the file refuses like an unreadable file', () => {
    mkdirSync(file);
    const store = new FileStateStore(file);
    const err = refusal(() => reserveNow(new CostLedger({ store, clock: clock(), policy: budgetSchema.parse({ monthlyUsd: 10 }) }), 0.01));
    assert.match(err.message, /EISDIR/);
  });

  it('after the user resets, the budget counts again from $0 plus what this session spent, and the file is new', async () => {
    writeFileSync(file, 'garbage');
    const store = new FileStateStore(file);
    const ledger = new CostLedger({ store, clock: clock(), policy: budgetSchema.parse({ perRequestUsd: 5 }) });
    ledger.settle(reserveNow(ledger, 0.25), entry(0.25));
    await ledger.flush();
    const result = await store.reset();
    assert.ok(result.ok && result.movedTo, 'moved aside');
    ledger.setPolicy(budgetSchema.parse({ monthlyUsd: 1 }));
    ledger.settle(reserveNow(ledger, 0.5), entry(0.5));
    await ledger.flush();
    await store.flush();
    const reread = new CostLedger({ store: new FileStateStore(file), clock: clock(), policy: budgetSchema.parse({}) });
    assert.equal(reread.summary().monthUsd, 0.75);
    assert.equal(readFileSync(result.movedTo, 'utf8'), 'garbage');
    assert.ok(new FileStateStore(file).get(LEDGER_STATE_KEY));
  });
});
