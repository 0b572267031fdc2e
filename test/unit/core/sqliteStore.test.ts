// Issue 19: the one SQLite ledger of a user. Two stores on one file stand for two processes (each
// has its own connection and owner id): a budget holds across them, a dead process's reservations
// are released, a damaged / locked / missing database is never recreated, a failed write refuses
// the request before it is sent, and the old state.json files are imported once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSchema } from '../../../src/core/config/schema';
import { CostLedger, LEDGER_STATE_KEY, type Reservation } from '../../../src/core/cost/costLedger';
import { MaofError } from '../../../src/core/errors';
import { BREAKER_STATE_KEY } from '../../../src/core/orchestrator';
import { SqliteStore, STALE_OWNER_MS } from '../../../src/core/persistence/sqliteStore';
import { editorLegacyFiles, importLegacyState } from '../../../src/core/persistence/importLegacy';
import { UsageHistory } from '../../../src/core/persistence/usageHistory';
import { loadSqlite, nodeAtLeast, SQLITE_MIN_NODE } from '../../../src/core/persistence/sqliteDriver';
import { systemClock } from '../../../src/core/clock';
import { silentLogger } from '../../../src/core/ports';

const usage = { inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 };
const entry = (requestId: string, costUsd: number, agentId = 'gpt'): Parameters<CostLedger['settle']>[1] => ({ requestId, agentId, model: 'm', task: 'code', usage, costUsd, cached: false, source: 'CLI' });

function ledgerOn(store: SqliteStore, monthlyUsd = 1): CostLedger {
  return new CostLedger({ store, clock: systemClock, policy: budgetSchema.parse({ monthlyUsd }) });
}

function refused(fn: () => unknown): MaofError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MaofError && err.code === 'BUDGET_EXCEEDED', `expected BUDGET_EXCEEDED, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('SqliteStore: one ledger for every MAOF process of the user', function () {
  before(function () {
    assert.ok(nodeAtLeast(SQLITE_MIN_NODE), `these tests need Node ${SQLITE_MIN_NODE}+ (npm test brings one; run through scripts/with-sqlite-node.sh)`);
  });
  const stores: SqliteStore[] = [];
  const open = (file: string, opts: ConstructorParameters<typeof SqliteStore>[2] = {}): SqliteStore => {
    const s = new SqliteStore(file, silentLogger, opts);
    stores.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });
  const dir = (): string => mkdtempSync(join(tmpdir(), 'maof-sqlite-'));

  it('a reservation in one process counts in the other; settled spend is the same for both', () => {
    const file = join(dir(), 'maof.db');
    const a = ledgerOn(open(file));
    const b = ledgerOn(open(file));
    const ra = a.tryReserve(0.6);
    assert.ok(ra, 'A reserves 0.60 of 1.00');
    assert.equal(b.tryReserve(0.6), undefined, 'B cannot also reserve 0.60: A holds it');
    a.settle(ra, entry('a1', 0.5));
    assert.equal(b.summary().monthUsd, 0.5, 'B sees what A settled');
    const rb = b.tryReserve(0.4);
    assert.ok(rb, 'B fits 0.40 beside 0.50 settled');
    b.settle(rb, entry('b1', 0.4, 'claude'));
    assert.equal(a.summary().monthUsd, 0.9);
    assert.deepEqual(a.summary().byAgent, { gpt: 0.5, claude: 0.4 });
    refused(() => a.reserveOrWait(0.2, { deadline: Date.now() + 1000 }));
    assert.deepEqual(b.recent(5).map((e) => e.requestId), ['b1', 'a1']);
  });

  it('a budget alert fires once across processes: the one whose settle crossed the threshold, not the next', () => {
    const file = join(dir(), 'maof.db');
    const fired: string[] = [];
    const make = (name: string): CostLedger =>
      new CostLedger({ store: open(file), clock: systemClock, policy: budgetSchema.parse({ monthlyUsd: 1, alertAt: [0.5] }), onAlert: (a) => fired.push(`${name}:${a.fraction}`) });
    const a = make('A');
    const b = make('B');
    a.settle(a.tryReserve(0.4) as Reservation, entry('a1', 0.3));
    assert.deepEqual(fired, []);
    b.settle(b.tryReserve(0.4) as Reservation, entry('b1', 0.3));
    assert.deepEqual(fired, ['B:0.5'], 'B crossed 50 % with A\'s spend counted');
    a.settle(a.tryReserve(0.2) as Reservation, entry('a2', 0.1));
    assert.deepEqual(fired, ['B:0.5'], 'A does not fire it again');
  });

  it('a waiter in one process is served when the other settles, first come first served', async () => {
    const file = join(dir(), 'maof.db');
    const a = ledgerOn(open(file));
    const b = ledgerOn(open(file));
    const held = a.tryReserve(0.8) as Reservation;
    const waiting = b.reserveOrWait(0.5, { deadline: Date.now() + 5000 });
    assert.ok(waiting instanceof Promise, 'B waits for A\'s reservation');
    assert.equal(a.tryReserve(0.1), undefined, 'a newcomer in A does not jump B\'s queue');
    a.settle(held, entry('a1', 0.3));
    const got = await waiting;
    assert.equal(got.amountUsd, 0.5);
    assert.equal(a.summary().reservedUsd, 0.5);
  });

  it('a dead process\'s reservations are released once its heartbeat is older than the stated time', () => {
    const file = join(dir(), 'maof.db');
    let now = Date.now();
    const dead = open(file, { now: () => now });
    ledgerOn(dead).tryReserve(0.9);
    // The dead one stops beating (kill -9): no close(), its heartbeat just ages.
    clearInterval((dead as unknown as { heartbeat: ReturnType<typeof setInterval> }).heartbeat);
    const other = open(file, { now: () => now });
    const ledger = ledgerOn(other);
    assert.equal(ledger.tryReserve(0.5), undefined, 'still held while the owner may be alive');
    now += STALE_OWNER_MS + 1_500;
    const r = ledger.tryReserve(0.5);
    assert.ok(r, 'released after the stale time');
    assert.equal(ledger.summary().reservedUsd, 0.5);
  });

  it('a database that fails to open as SQLite is left byte for byte, refuses paid requests under a limit, and is moved aside on reset', async () => {
    const d = dir();
    const file = join(d, 'maof.db');
    writeFileSync(file, 'this is not a database, but it may be the only copy of a ledger'.repeat(100));
    const before = readFileSync(file);
    const problems: string[] = [];
    const store = open(file, { onProblem: (p) => problems.push(p.kind) });
    assert.equal(store.problem?.kind, 'corrupt');
    assert.deepEqual(problems, ['corrupt'], 'said once');
    const ledger = ledgerOn(store);
    assert.match(refused(() => ledger.reserveOrWait(0.01, { deadline: Date.now() + 1000 })).message, /damaged/);
    assert.deepEqual(readFileSync(file), before, 'never overwritten');
    const reset = await store.reset();
    assert.ok(reset.ok && reset.movedTo, 'moved aside');
    assert.deepEqual(readFileSync(reset.movedTo), before, 'kept, renamed');
    assert.equal(store.problem, undefined);
    assert.ok(readdirSync(d).some((f) => f.startsWith('maof.db.corrupt-')));
    // The session goes on with the new database: what it spends now is there for every process.
    const r = ledger.reserveOrWait(0.01, { deadline: Date.now() + 1000 });
    assert.ok(!(r instanceof Promise));
    ledger.settle(r, entry('after-reset', 0.01));
    assert.equal(ledgerOn(open(file)).summary().monthUsd, 0.01, 'another process sees the spend made after the reset');
  });

  it('a database locked by another process past the busy timeout is a problem, not a new database', () => {
    const file = join(dir(), 'maof.db');
    open(file).close();
    const open2 = loadSqlite();
    assert.ok(!(open2 instanceof Error));
    const holder = open2(file);
    holder.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO meta(key, value) VALUES (\'x\', \'y\');');
    try {
      const store = open(file, { busyTimeoutMs: 100 });
      assert.equal(store.problem?.kind, 'locked');
      assert.match(store.problem.message, /locked by another process/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a runtime without node:sqlite is a clear problem, not a crash', () => {
    const store = open(join(dir(), 'maof.db'), { open: new Error('this runtime (Node 20.0.0) has no built-in SQLite') });
    assert.equal(store.problem?.kind, 'unavailable');
    assert.match(store.problem.message, /VS Code \(1\.104 or later\)|Node 22\.13/);
  });

  it('a write that fails (read-only) refuses the request before it is sent, with the reason', () => {
    const store = open(join(dir(), 'maof.db'));
    const ledger = ledgerOn(store, 100);
    store.withDatabase((db) => db.run('PRAGMA query_only = ON'));
    assert.equal(ledger.tryReserve(0.01), undefined);
    const err = refused(() => ledger.reserveOrWait(0.01, { deadline: Date.now() + 1000 }));
    assert.match(err.message, /could not record this request.*read-only.*not sent/);
  });

  it('imports an old CLI state.json once (spend, history, breakers), renames it, and never counts a copy twice', () => {
    const d = dir();
    const legacy = join(d, 'state.json');
    const today = new Date().toISOString().slice(0, 10);
    const at = Date.now() - 1000;
    const old = {
      [LEDGER_STATE_KEY]: {
        v: 1, month: today.slice(0, 7), byDay: { [today]: 2_500_000_000 }, byAgent: { gpt: 2_500_000_000 }, byTask: { code: 2_500_000_000 }, requests: 3, cacheHits: 0, savedNano: 0, alerts: {},
        entries: [{ requestId: 'old-1', at, agentId: 'gpt', model: 'm', task: 'code', usage, costUsd: 1, cached: false, source: 'CLI' }],
      },
      [BREAKER_STATE_KEY]: { gpt: { state: 'open', consecutiveFailures: 5, recent: [], opens: 1, openedAt: at } },
    };
    writeFileSync(legacy, JSON.stringify(old));
    const copy = join(d, 'copy.json');
    copyFileSync(legacy, copy);
    const store = open(join(d, 'maof.db'));
    const [first] = importLegacyState(store, [legacy], silentLogger);
    assert.equal(first.result, 'imported');
    assert.ok(first.movedTo && existsSync(first.movedTo) && !existsSync(legacy), 'kept, renamed');
    const ledger = ledgerOn(store, 100);
    assert.equal(ledger.summary().monthUsd, 2.5, 'the day total, not only the one entry the file still held');
    assert.equal(ledger.summary().requests, 1);
    assert.equal((store.get(BREAKER_STATE_KEY) as Record<string, { state: string }>).gpt.state, 'open');
    // The same content again (restored from a backup under the old name): not counted again.
    copyFileSync(copy, legacy);
    const [again] = importLegacyState(store, [legacy], silentLogger);
    assert.equal(again.result, 'already');
    assert.equal(ledgerOn(store, 100).summary().monthUsd, 2.5);
    const report = new UsageHistory(store).query({ by: 'agent' });
    assert.equal(report?.totals.costUsd, 2.5);
  });

  it('imports each VS Code profile\'s state.json, and leaves an unreadable one alone', () => {
    const user = join(dir(), 'User');
    const ext = 'maof.maof';
    const files = [join(user, 'globalStorage', ext, 'state.json'), join(user, 'profiles', 'p1', 'globalStorage', ext, 'state.json')];
    const today = new Date().toISOString().slice(0, 10);
    for (const [i, f] of files.entries()) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, JSON.stringify({ [LEDGER_STATE_KEY]: { v: 1, month: today.slice(0, 7), byDay: { [today]: (i + 1) * 1_000_000_000 }, byAgent: {}, byTask: {}, requests: 0, cacheHits: 0, savedNano: 0, alerts: {}, entries: [] } }));
    }
    const broken = join(user, 'profiles', 'p2', 'globalStorage', ext, 'state.json');
    mkdirSync(join(broken, '..'), { recursive: true });
    writeFileSync(broken, '{ not json');
    const found = editorLegacyFiles(join(user, 'profiles', 'p1', 'globalStorage', ext), join(user, 'cli', 'state.json'));
    const store = open(join(user, '..', 'maof.db'));
    const results = importLegacyState(store, found, silentLogger);
    assert.deepEqual(results.map((r) => r.result).sort(), ['imported', 'imported', 'skipped']);
    assert.equal(ledgerOn(store, 100).summary().monthUsd, 3, 'both profiles\' spend, once');
    assert.equal(readFileSync(broken, 'utf8'), '{ not json', 'an unreadable file is left as it is');
  });

  it('UsageHistory totals by day, agent, task and source agree with the ledger to the nano-dollar', () => {
    const store = open(join(dir(), 'maof.db'));
    const ledger = ledgerOn(store, 1000);
    for (let i = 0; i < 200; i++) {
      const r = ledger.tryReserve(0.01) as Reservation;
      ledger.settle(r, { ...entry(`r${i}`, 0.000_123_4 * (i % 7), i % 3 ? 'gpt' : 'claude'), source: i % 2 ? 'CLI' : 'MAOF chat' });
    }
    ledger.recordCacheHit({ requestId: 'hit', agentId: 'gpt', task: 'code', savedUsd: 0.002 });
    const history = new UsageHistory(store);
    const s = ledger.summary();
    for (const by of ['agent', 'task', 'source'] as const) {
      const report = history.query({ since: Date.parse(`${s.month}-01T00:00:00Z`), by });
      assert.ok(report);
      const want = by === 'agent' ? s.byAgent : by === 'task' ? s.byTask : s.bySource;
      assert.deepEqual(Object.fromEntries(report.groups.filter((g) => g.costUsd > 0 || want[g.key] !== undefined).map((g) => [g.key, g.costUsd])), want, by);
      assert.equal(report.totals.costUsd, s.monthUsd);
      assert.equal(report.totals.requests, 200);
      assert.equal(report.totals.cacheHits, 1);
      assert.equal(report.totals.savedUsd, 0.002);
    }
    const byDay = history.query({ by: 'day' });
    assert.deepEqual(Object.fromEntries(byDay?.groups.map((g) => [g.key, g.costUsd]) ?? []), s.byDay);
    assert.equal(history.rows({ limit: 5 })?.length, 5);
  });
});
