// One SQLite database per user, shared by the CLI and every editor window (issue 19): the ledger's
// reservations, the whole request history, and small JSON slots (breakers, key pauses) in a kv
// table. WAL lets readers run beside one writer; every write is a short BEGIN IMMEDIATE
// transaction; a process that dies leaves reservations its heartbeat no longer vouches for, which
// the next writer removes. A database that exists but cannot be used is never recreated: the
// store says so once (`problem`), keeps updates in memory and waits for the user's reset.
import { mkdirSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger, type LedgerTotals, type Logger, type MonthStats, type SharedLedger, type StateProblem, type StateStore, type UsageRow } from '../ports';
import { loadSqlite, type OpenSqlDatabase, type SqlDatabase, type SqlRow, type SqlStatement, type SqlValue } from './sqliteDriver';
import type { StateResetResult } from './fileStateStore';

/** A live process writes its heartbeat this often. */
export const HEARTBEAT_MS = 2_000;
/** A process whose heartbeat is older than this is dead: its reservations and waits are removed. */
export const STALE_OWNER_MS = 10_000;
/** Dead owners are looked for at most this often (a dead pid on this machine is seen at once). */
const REAP_INTERVAL_MS = 1_000;
/** How long a write waits for another process's transaction before the database counts as locked. */
export const BUSY_TIMEOUT_MS = 5_000;
/** Other processes' changes (breakers, pauses) are looked for at most this often, off the request path. */
export const CHANGE_POLL_MS = 250;
/** How often a process that wrote checkpoints the WAL into the database (off the request path). */
const CHECKPOINT_MS = 10_000;
/** Default history kept: 13 months, so a year ago's month is still whole. */
export const DEFAULT_HISTORY_MONTHS = 13;
const DAY_MS = 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL, rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, at INTEGER NOT NULL, day TEXT NOT NULL,
  source TEXT NOT NULL, task TEXT NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
  cost_nano INTEGER NOT NULL, saved_nano INTEGER NOT NULL, cached INTEGER NOT NULL,
  ttft_ms INTEGER, total_ms INTEGER, outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_at ON entries(at);
CREATE TABLE IF NOT EXISTS days(day TEXT PRIMARY KEY, cost_nano INTEGER NOT NULL, requests INTEGER NOT NULL, cache_hits INTEGER NOT NULL, saved_nano INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS owners(owner TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, beat INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reservations(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, nano INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS waiters(id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, nano INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS imports(id TEXT PRIMARY KEY, file TEXT NOT NULL, at INTEGER NOT NULL);
`;

export interface SqliteStoreOptions {
  /** Opens the database (tests inject failures); default: node:sqlite. An Error: SQLite is missing. */
  open?: OpenSqlDatabase | Error;
  /** How the user starts afresh on this surface, e.g. `run "MAOF: Reset Spend History"`. */
  resetHint?: string;
  /** How the user makes MAOF open the database again; default: `restart MAOF`. */
  restartHint?: string;
  /** Tells the user about an unusable database (the CLI writes it to stderr); default: a warning in the log. */
  onProblem?: (problem: StateProblem) => void;
  /** Months of request history kept (maof.storage.historyMonths). */
  historyMonths?: number;
  /** Wall-clock time for heartbeats and retention; default Date.now. */
  now?: () => number;
  /** Busy timeout in ms (tests shorten it). */
  busyTimeoutMs?: number;
}

interface SqlError {
  message: string;
  errcode?: number;
  code?: string;
}

/** SQLite result codes (primary) → how the user should read them. */
function classify(err: unknown): { kind: StateProblem['kind']; code: string } {
  const e = (err ?? {}) as SqlError;
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
  if (primary === 5 || primary === 6) return { kind: 'locked', code: 'SQLITE_BUSY' };
  if (primary === 11 || primary === 26) return { kind: 'corrupt', code: primary === 26 ? 'SQLITE_NOTADB' : 'SQLITE_CORRUPT' };
  if (primary === 8) return { kind: 'unreadable', code: 'SQLITE_READONLY' };
  if (primary === 13) return { kind: 'unreadable', code: 'SQLITE_FULL' };
  if (primary === 14) return { kind: 'unreadable', code: 'SQLITE_CANTOPEN' };
  if (primary === 10) return { kind: 'unreadable', code: 'SQLITE_IOERR' };
  return { kind: 'unreadable', code: typeof e.code === 'string' && e.code.startsWith('E') ? e.code : 'SQLITE_ERROR' };
}

/** Why a write failed, in words for the user (disk full, read-only, locked). */
export function writeFailure(err: unknown): string {
  const { kind, code } = classify(err);
  if (code === 'SQLITE_FULL') return 'the disk is full';
  if (code === 'SQLITE_READONLY') return 'the database is read-only';
  if (kind === 'locked') return `another MAOF process held the database for more than ${BUSY_TIMEOUT_MS / 1000} s`;
  return `a disk error (${code})`;
}

function num(row: SqlRow | undefined, key: string): number {
  const v = row?.[key];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function str(row: SqlRow, key: string): string {
  const v = row[key];
  return typeof v === 'string' ? v : '';
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toRow(r: SqlRow): UsageRow {
  const row: UsageRow = {
    requestId: str(r, 'request_id'),
    at: num(r, 'at'),
    source: str(r, 'source'),
    task: str(r, 'task'),
    agentId: str(r, 'agent'),
    model: str(r, 'model'),
    inputTokens: num(r, 'input_tokens'),
    outputTokens: num(r, 'output_tokens'),
    cacheReadTokens: num(r, 'cache_read_tokens'),
    cacheWriteTokens: num(r, 'cache_write_tokens'),
    costNano: num(r, 'cost_nano'),
    savedNano: num(r, 'saved_nano'),
    cached: num(r, 'cached') === 1,
    outcome: str(r, 'outcome'),
  };
  if (r.ttft_ms !== null && r.ttft_ms !== undefined) row.ttftMs = num(r, 'ttft_ms');
  if (r.total_ms !== null && r.total_ms !== undefined) row.totalMs = num(r, 'total_ms');
  return row;
}

export class SqliteStore implements StateStore {
  private db: SqlDatabase | undefined;
  private unusable: StateProblem | undefined;
  private readonly memory = new Map<string, string>();
  private readonly statements = new Map<string, SqlStatement>();
  private readonly open: OpenSqlDatabase | Error;
  private readonly resetHint: string;
  private readonly restartHint: string;
  private readonly onProblem: ((problem: StateProblem) => void) | undefined;
  private readonly now: () => number;
  private readonly busyTimeoutMs: number;
  private readonly historyMonths: number;
  /** This process's name in owners, reservations and waiters. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly host = hostname();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private checkpointTimer: ReturnType<typeof setInterval> | undefined;
  private checkpointedAt = 0;
  private lastReap = 0;
  private depth = 0;
  /** Revisions of kv keys as this process last wrote or saw them. */
  private readonly revs = new Map<string, number>();
  private lastDataVersion = -1;
  private localWrites = 0;
  private changeTimer: ReturnType<typeof setInterval> | undefined;
  private readonly changeListeners = new Set<(keys: string[]) => void>();
  readonly sharedLedger: SharedLedger | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger = silentLogger,
    options: SqliteStoreOptions = {},
  ) {
    this.open = options.open ?? loadSqlite();
    this.resetHint = options.resetHint ?? 'move the file away';
    this.restartHint = options.restartHint ?? 'restart MAOF';
    this.onProblem = options.onProblem;
    this.now = options.now ?? Date.now;
    this.busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    this.historyMonths = options.historyMonths ?? DEFAULT_HISTORY_MONTHS;
    this.connect();
    this.sharedLedger = this.db ? this.ledgerApi() : undefined;
  }

  get path(): string {
    return this.file;
  }

  get problem(): StateProblem | undefined {
    return this.unusable;
  }

  // ---- opening, damage, reset --------------------------------------------------------------------

  private connect(): void {
    if (this.open instanceof Error) {
      this.fail({
        kind: 'unavailable',
        file: this.file,
        message:
          `MAOF cannot open its spend ledger: ${this.open.message}. Nothing is saved and requests that cost money are refused while a budget limit is set — ` +
          `update VS Code (1.104 or later) or use Node 22.13 or later for the CLI.`,
      });
      return;
    }
    let db: SqlDatabase | undefined;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      db = this.open(this.file);
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      db.exec('PRAGMA journal_mode = WAL');
      // NORMAL in WAL: a commit is in the WAL before COMMIT returns, so a killed process loses nothing.
      db.exec('PRAGMA synchronous = NORMAL');
      // No checkpoint inside a request's commit (its fsync was the p99: 10 ms vs 1.8 ms): a timer does it.
      db.exec('PRAGMA wal_autocheckpoint = 0');
      const check = db.prepare('PRAGMA quick_check').get();
      if (check && Object.values(check)[0] !== 'ok') throw Object.assign(new Error('integrity check failed'), { errcode: 11 });
      db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already unusable
      }
      this.openFailed(err);
      return;
    }
    this.db = db;
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref?.();
    this.checkpointTimer = setInterval(() => this.checkpoint(), CHECKPOINT_MS);
    this.checkpointTimer.unref?.();
    this.applyRetention();
  }

  private openFailed(err: unknown): void {
    const { kind, code } = classify(err);
    const fix = `${this.restartHint}, or ${this.resetHint} to start from $0`;
    const refuse = 'Until this is fixed nothing is saved there and requests that cost money are refused while a budget limit is set';
    const messages: Record<StateProblem['kind'], string> = {
      locked: `MAOF's spend ledger (${this.file}) stayed locked by another process for more than ${this.busyTimeoutMs / 1000} s. ${refuse} — close the process that holds it and ${fix}.`,
      corrupt: `MAOF's spend ledger is damaged (${this.file} fails SQLite's integrity check: ${code}). It was left as it is. ${refuse} — restore the file from a backup and ${fix}.`,
      unreadable: `MAOF cannot open its spend ledger (${this.file}: ${code}). ${refuse} — fix the file's permissions or disk and ${fix}.`,
      unavailable: '',
    };
    this.fail({ kind, file: this.file, code, message: messages[kind] }, err);
  }

  private fail(problem: StateProblem, err?: unknown): void {
    this.unusable = problem;
    if (this.onProblem) {
      this.logger.debug(problem.message, err);
      this.onProblem(problem);
    } else {
      this.logger.warn(problem.message, err);
    }
  }

  /**
   * Starts afresh after the user chose to: moves the unusable database (and its -wal/-shm) aside,
   * opens a new one and writes what this session holds. Does nothing when there is no problem.
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- the StateResetResult contract is async (FileStateStore)
  async reset(): Promise<StateResetResult> {
    const problem = this.unusable;
    if (!problem) return { ok: true };
    if (problem.kind === 'unavailable') return { ok: false, message: `MAOF cannot use SQLite in this runtime — ${problem.message}` };
    // Locked is not damaged: the other process may be using it — open it again rather than move it away.
    if (problem.kind === 'locked') return this.reopen();
    const aside = `${this.file}.${problem.kind}-${this.now()}`;
    try {
      renameSync(this.file, aside);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return { ok: false, message: `MAOF could not move ${this.file} aside (${code ?? 'error'}) — move or delete it yourself, then ${this.restartHint}.` };
    }
    for (const suffix of ['-wal', '-shm']) {
      try {
        renameSync(`${this.file}${suffix}`, `${aside}${suffix}`);
      } catch {
        // none left
      }
    }
    this.unusable = undefined;
    this.connect();
    if (this.unusable) return { ok: false, message: (this.unusable as StateProblem).message };
    (this as { sharedLedger: SharedLedger | undefined }).sharedLedger = this.ledgerApi();
    for (const [key, json] of this.memory) this.writeKv(key, json);
    this.logger.warn(`The unusable MAOF spend ledger was moved aside to ${aside}; starting from empty state.`);
    return { ok: true, movedTo: aside };
  }

  private reopen(): StateResetResult {
    this.unusable = undefined;
    this.connect();
    if (this.unusable) return { ok: false, message: (this.unusable as StateProblem).message };
    (this as { sharedLedger: SharedLedger | undefined }).sharedLedger = this.ledgerApi();
    for (const [key, json] of this.memory) this.writeKv(key, json);
    return { ok: true };
  }

  /** Stops the heartbeat and change polling and closes the database (tests, CLI exit, deactivate). */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.changeTimer) clearInterval(this.changeTimer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.heartbeat = undefined;
    this.changeTimer = undefined;
    const db = this.db;
    this.db = undefined;
    if (!db) return;
    try {
      this.stmt('DELETE FROM owners WHERE owner = ?', db).run(this.owner);
      this.stmt('DELETE FROM reservations WHERE owner = ?', db).run(this.owner);
      this.stmt('DELETE FROM waiters WHERE owner = ?', db).run(this.owner);
    } catch (err) {
      this.logger.debug('Could not remove this process from the ledger on close', err);
    }
    this.statements.clear();
    db.close();
  }

  /** Resolves when everything updated so far is on disk: writes are synchronous, so at once. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  // ---- kv: the StateStore port -------------------------------------------------------------------

  get(key: string): unknown {
    const db = this.db;
    if (!db) {
      const json = this.memory.get(key);
      return json === undefined ? undefined : (JSON.parse(json) as unknown);
    }
    const row = this.stmt('SELECT value, rev FROM kv WHERE key = ?').get(key);
    if (!row) return undefined;
    this.revs.set(key, num(row, 'rev'));
    return JSON.parse(str(row, 'value')) as unknown;
  }

  update(key: string, value: unknown): Promise<void> {
    const json = value === undefined ? undefined : JSON.stringify(value);
    if (json === undefined) this.memory.delete(key);
    else this.memory.set(key, json);
    if (!this.db) return Promise.resolve();
    try {
      if (json === undefined) {
        this.stmt('DELETE FROM kv WHERE key = ?').run(key);
        this.revs.delete(key);
      } else {
        this.writeKv(key, json);
      }
      this.localWrites++;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private writeKv(key: string, json: string): void {
    const row = this.stmt('INSERT INTO kv(key, value, rev) VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET value = excluded.value, rev = kv.rev + 1 RETURNING rev').get(key, json);
    this.revs.set(key, num(row, 'rev'));
  }

  onExternalChange(listener: (keys: string[]) => void): () => void {
    this.changeListeners.add(listener);
    if (!this.changeTimer && this.db) {
      this.lastDataVersion = this.dataVersion();
      this.changeTimer = setInterval(() => this.pollChanges(), CHANGE_POLL_MS);
      this.changeTimer.unref?.();
    }
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /** SQLite's change counter for commits by other connections: one cheap pragma, no table read. */
  private dataVersion(): number {
    return this.db ? num(this.stmt('PRAGMA data_version').get(), 'data_version') : 0;
  }

  private pollChanges(): void {
    if (!this.db || this.changeListeners.size === 0) return;
    try {
      const version = this.dataVersion();
      if (version === this.lastDataVersion) return;
      this.lastDataVersion = version;
      const changed: string[] = [];
      for (const row of this.stmt('SELECT key, rev FROM kv').all()) {
        const key = str(row, 'key');
        const rev = num(row, 'rev');
        if (this.revs.get(key) !== rev) {
          this.revs.set(key, rev);
          changed.push(key);
        }
      }
      if (changed.length === 0) return;
      for (const listener of this.changeListeners) listener(changed);
    } catch (err) {
      this.logger.debug('Could not look for other MAOF processes\' changes', err);
    }
  }

  // ---- the shared ledger -------------------------------------------------------------------------

  private stmt(sql: string, db: SqlDatabase | undefined = this.db): SqlStatement {
    let s = this.statements.get(sql);
    if (!s) {
      if (!db) throw new Error('MAOF spend ledger is closed');
      s = db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Copies the WAL into the database when this process wrote since the last time; readers are not blocked. */
  private checkpoint(): void {
    if (!this.db || this.localWrites === this.checkpointedAt) return;
    this.checkpointedAt = this.localWrites;
    try {
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (err) {
      this.logger.debug('Could not checkpoint the MAOF ledger', err);
    }
  }

  private beat(): void {
    try {
      this.stmt('INSERT INTO owners(owner, pid, host, beat) VALUES (?, ?, ?, ?) ON CONFLICT(owner) DO UPDATE SET beat = excluded.beat').run(this.owner, process.pid, this.host, this.now());
    } catch (err) {
      this.logger.debug('Could not write the ledger heartbeat', err);
    }
  }

  /** Removes what dead processes left: reservations and waits of owners silent too long or whose pid is gone here. */
  private reap(): void {
    const now = this.now();
    if (now - this.lastReap < REAP_INTERVAL_MS) return;
    this.lastReap = now;
    for (const row of this.stmt('SELECT owner, pid, host, beat FROM owners').all()) {
      const owner = str(row, 'owner');
      if (owner === this.owner) continue;
      const dead = num(row, 'beat') < now - STALE_OWNER_MS || (str(row, 'host') === this.host && !processAlive(num(row, 'pid')));
      if (!dead) continue;
      this.stmt('DELETE FROM reservations WHERE owner = ?').run(owner);
      this.stmt('DELETE FROM waiters WHERE owner = ?').run(owner);
      this.stmt('DELETE FROM owners WHERE owner = ?').run(owner);
      this.logger.info('Released the budget reservations of a MAOF process that stopped without settling them.');
    }
  }

  private transact<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    const db = this.db;
    if (!db) throw new Error('MAOF spend ledger is not open');
    db.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      this.reap();
      const out = fn();
      db.exec('COMMIT');
      this.localWrites++;
      return out;
    } catch (err) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // no transaction left to roll back
      }
      throw err;
    } finally {
      this.depth--;
    }
  }

  private applyRetention(): void {
    const cutoff = this.now() - this.historyMonths * 31 * DAY_MS;
    try {
      this.transact(() => {
        this.stmt('DELETE FROM entries WHERE at < ?').run(cutoff);
        this.stmt('DELETE FROM days WHERE day < ?').run(utcDay(cutoff));
      });
    } catch (err) {
      this.logger.warn('Could not trim the usage history to its retention', err);
    }
  }

  private totals(day: string): LedgerTotals {
    const month = day.slice(0, 7);
    const row = this.stmt(
      `SELECT (SELECT COALESCE(SUM(cost_nano), 0) FROM days WHERE day >= ? AND day < ?) AS month,
              (SELECT COALESCE(SUM(cost_nano), 0) FROM days WHERE day = ?) AS day,
              (SELECT COALESCE(SUM(nano), 0) FROM reservations) AS reserved,
              (SELECT MIN(id) FROM waiters) AS head`,
    ).get(`${month}-01`, `${month}-99`, day);
    const head = row?.head;
    return { monthNano: num(row, 'month'), dayNano: num(row, 'day'), reservedNano: num(row, 'reserved'), ...(head !== null && head !== undefined ? { headWaiter: num(row, 'head') } : {}) };
  }

  /** Inserts one history row and adds it to its day's totals (used by the ledger and the import). */
  insertEntry(row: UsageRow): void {
    const params: SqlValue[] = [
      row.requestId, row.at, utcDay(row.at), row.source, row.task, row.agentId, row.model,
      row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheWriteTokens,
      row.costNano, row.savedNano, row.cached ? 1 : 0, row.ttftMs ?? null, row.totalMs ?? null, row.outcome,
    ];
    this.stmt(
      'INSERT INTO entries(request_id, at, day, source, task, agent, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nano, saved_nano, cached, ttft_ms, total_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(...params);
    const hit = row.outcome === 'cache-hit' ? 1 : 0;
    const billed = row.outcome === 'cache-hit' || row.outcome === 'carried-over' ? 0 : 1;
    this.stmt(
      `INSERT INTO days(day, cost_nano, requests, cache_hits, saved_nano) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(day) DO UPDATE SET cost_nano = cost_nano + excluded.cost_nano, requests = requests + excluded.requests,
         cache_hits = cache_hits + excluded.cache_hits, saved_nano = saved_nano + excluded.saved_nano`,
    ).run(utcDay(row.at), row.costNano, billed, hit, row.savedNano);
  }

  private monthStats(month: string): MonthStats {
    const from = Date.parse(`${month}-01T00:00:00Z`);
    const next = new Date(from);
    next.setUTCMonth(next.getUTCMonth() + 1);
    const stats: MonthStats = { byAgent: new Map(), byTask: new Map(), bySource: new Map(), requests: 0, cacheHits: 0, savedNano: 0 };
    const rows = this.stmt(
      `SELECT agent, task, source, outcome, SUM(cost_nano) AS cost, SUM(saved_nano) AS saved, COUNT(*) AS n
       FROM entries WHERE at >= ? AND at < ? GROUP BY agent, task, source, outcome`,
    ).all(from, next.getTime());
    for (const r of rows) {
      const cost = num(r, 'cost');
      const add = (map: Map<string, number>, key: string): void => {
        map.set(key, (map.get(key) ?? 0) + cost);
      };
      const outcome = str(r, 'outcome');
      if (outcome === 'cache-hit') stats.cacheHits += num(r, 'n');
      else if (outcome !== 'carried-over') stats.requests += num(r, 'n');
      stats.savedNano += num(r, 'saved');
      if (outcome === 'cache-hit') continue;
      add(stats.byAgent, str(r, 'agent'));
      add(stats.byTask, str(r, 'task'));
      add(stats.bySource, str(r, 'source'));
    }
    return stats;
  }

  private ledgerApi(): SharedLedger {
    return {
      transact: (fn) => this.transact(fn),
      totals: (day) => this.totals(day),
      addReservation: (nano) => num(this.stmt('INSERT INTO reservations(owner, nano, at) VALUES (?, ?, ?) RETURNING id').get(this.owner, nano, this.now()), 'id'),
      dropReservation: (id) => void this.stmt('DELETE FROM reservations WHERE id = ?').run(id),
      addWaiter: (nano) => this.transact(() => num(this.stmt('INSERT INTO waiters(owner, nano, at) VALUES (?, ?, ?) RETURNING id').get(this.owner, nano, this.now()), 'id')),
      dropWaiter: (id) => void this.transact(() => this.stmt('DELETE FROM waiters WHERE id = ?').run(id)),
      addEntry: (row) => this.insertEntry(row),
      monthStats: (month) => this.monthStats(month),
      byDay: (since) => new Map(this.stmt('SELECT day, cost_nano FROM days WHERE day >= ? ORDER BY day').all(since).map((r) => [str(r, 'day'), num(r, 'cost_nano')])),
      recent: (limit) => this.stmt("SELECT * FROM entries WHERE outcome != 'carried-over' ORDER BY id DESC LIMIT ?").all(Math.max(0, Math.floor(limit))).map(toRow),
      version: () => this.dataVersion() * 1_000_000 + this.localWrites,
    };
  }

  /** Runs `fn` in one write transaction on the open database (the import, the usage queries' helpers). */
  withDatabase<T>(fn: (db: { run: (sql: string, ...p: SqlValue[]) => void; get: (sql: string, ...p: SqlValue[]) => SqlRow | undefined; all: (sql: string, ...p: SqlValue[]) => SqlRow[] }) => T, write = false): T | undefined {
    if (!this.db) return undefined;
    const api = {
      run: (sql: string, ...p: SqlValue[]) => void this.stmt(sql).run(...p),
      get: (sql: string, ...p: SqlValue[]) => this.stmt(sql).get(...p),
      all: (sql: string, ...p: SqlValue[]) => this.stmt(sql).all(...p),
    };
    return write ? this.transact(() => fn(api)) : fn(api);
  }
}

export { toRow as usageRowFromSql, utcDay };
