// The ports through which the core reaches the world. The extension implements them with VS Code
// APIs, the CLI with Node, the tests with fakes; the core never knows which.

export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** Where API keys come from: SecretStorage in VS Code, environment variables in the CLI. */
export interface SecretSource {
  get(name: string): Promise<string | undefined>;
}

/**
 * Why stored state that exists could not be used: `unreadable` (the file could not be read —
 * EACCES, EIO, a directory in its place), `corrupt` (read, but not a JSON object / a database that
 * fails its integrity check), `locked` (another process held the database past the busy timeout) or
 * `unavailable` (this runtime has no built-in SQLite). A store with a problem writes nothing until
 * it is fixed or reset, so spend history is never erased silently.
 */
export interface StateProblem {
  kind: 'unreadable' | 'corrupt' | 'locked' | 'unavailable';
  /** The state file (a path of the user's own machine; never a key). */
  file: string;
  /** The system error code for `unreadable` (EACCES, EIO, EISDIR, …). */
  code?: string;
  /** What the user reads: the problem and the fix, in one or two sentences. */
  message: string;
}

/** Small JSON state that must survive restarts (ledger, breakers). Writes must be atomic. */
export interface StateStore {
  /** The stored JSON value, not validated: read it through a PersistedSlot (persistence/persistedSlot.ts). */
  get(key: string): unknown;
  update(key: string, value: unknown): Promise<void>;
  /**
   * Set while the stored state exists but could not be read: the store then keeps updates in
   * memory only, and the budget refuses spending it cannot check (see CostLedger). Optional: a
   * store that cannot fail this way (memory) leaves it undefined.
   */
  readonly problem?: StateProblem;
  /**
   * Optional: the ledger shared by every MAOF process of the user (SqliteStore). When present the
   * CostLedger reserves and settles through it, so budgets hold across processes.
   */
  readonly sharedLedger?: SharedLedger;
  /**
   * Optional: calls `listener` with the keys another process changed (breakers, key pauses), checked
   * in the background at most every few hundred ms — never a query on the request path. Returns a stop function.
   */
  onExternalChange?(listener: (keys: string[]) => void): () => void;
}

/** Money in integer nano-dollars, as the ledger counts it. */
export interface LedgerTotals {
  monthNano: number;
  dayNano: number;
  /** Reservations in flight in every live process. */
  reservedNano: number;
  /** The id of the first request waiting for budget in any live process, if one waits. */
  headWaiter?: number;
}

/** One row of the usage history (the ledger's entry, as stored). */
export interface UsageRow {
  requestId: string;
  at: number;
  source: string;
  task: string;
  agentId: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costNano: number;
  savedNano: number;
  cached: boolean;
  ttftMs?: number;
  totalMs?: number;
  /** ok | invalid-output | cancelled | cache-hit | carried-over (an imported day's spend older than its entries). */
  outcome: string;
}

/** Spend of one month, summed over the history. */
export interface MonthStats {
  byAgent: Map<string, number>;
  byTask: Map<string, number>;
  bySource: Map<string, number>;
  requests: number;
  cacheHits: number;
  savedNano: number;
}

/**
 * The book-keeping the CostLedger needs from a store shared across processes. Every call is
 * synchronous (node:sqlite); `transact` runs its function under BEGIN IMMEDIATE so that a read of
 * the totals and the reservation it allows are one step for every process.
 */
export interface SharedLedger {
  transact<T>(fn: () => T): T;
  totals(day: string): LedgerTotals;
  addReservation(nano: number): number;
  dropReservation(id: number): void;
  addWaiter(nano: number): number;
  dropWaiter(id: number): void;
  addEntry(row: UsageRow): void;
  monthStats(month: string): MonthStats;
  /** Spend per UTC day from `sinceDay` on, oldest first. */
  byDay(sinceDay: string): Map<string, number>;
  recent(limit: number): UsageRow[];
  /** Changes whenever any process committed something: a cheap key for caches. */
  version(): number;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with a CANCELLED MaofError if `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: calls `fn` after `ms` unless the returned cancel function runs first. For timers that
   * almost never fire (one per provider call), it spares the abort signal, listener and rejected
   * promise that cancelling a sleep costs; code falls back to `sleep` when a clock lacks it.
   */
  setTimer?(ms: number, fn: () => void): () => void;
}

export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** In-memory store for tests and for the CLI's --no-state mode. */
export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, string>();

  get(key: string): unknown {
    const raw = this.data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
  }

  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, JSON.stringify(value));
    return Promise.resolve();
  }
}
