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
 * EACCES, EIO, a directory in its place) or `corrupt` (read, but not a JSON object). A store with a
 * problem writes nothing until it is fixed or reset, so spend history is never erased silently.
 */
export interface StateProblem {
  kind: 'unreadable' | 'corrupt';
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
