// A manual clock for tests: time moves only when a test calls advance()/runAll(), so backoff,
// breakers, rate limits and budgets are tested in milliseconds without real sleeping.
import { cancelledError } from '../../../src/core/errors';
import type { Clock } from '../../../src/core/ports';

interface Sleeper {
  readonly due: number;
  /** Insertion order, so sleepers due at the same time fire in the order they were scheduled. */
  readonly seq: number;
  readonly resolve: () => void;
  readonly detach: () => void;
}

export interface FakeClockOptions {
  /** Initial clock time (ms since epoch). Default: 2025-01-01T00:00:00Z. */
  start?: number;
  /**
   * Microtask turns awaited after each fired sleeper, so that work resumed by it (and sleeps it
   * schedules in turn) runs inside the same advance(). Deep async chains may need more.
   */
  microtaskTurns?: number;
}

export const FAKE_CLOCK_START = Date.UTC(2025, 0, 1);

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly sleepers = new Set<Sleeper>();
  private readonly turns: number;

  constructor(options: FakeClockOptions | number = {}) {
    const opts = typeof options === 'number' ? { start: options } : options;
    this.time = opts.start ?? FAKE_CLOCK_START;
    this.turns = opts.microtaskTurns ?? 50;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    if (!(ms > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.sleepers.delete(sleeper);
        reject(cancelledError());
      };
      const sleeper: Sleeper = {
        due: this.time + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      this.sleepers.add(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of sleeps not yet fired nor aborted. */
  pendingSleeps(): number {
    return this.sleepers.size;
  }

  /** Clock time at which the next pending sleep fires, or undefined when none is pending. */
  nextDue(): number | undefined {
    return this.earliest()?.due;
  }

  /**
   * Moves time forward by `ms`, firing every sleep due on the way in time order and letting the
   * code each one resumes run (including sleeps it schedules) before the next fires.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: expected ms >= 0, got ${ms}`);
    const target = this.time + ms;
    await this.flush();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.sleepers.delete(next);
      this.time = Math.max(this.time, next.due);
      next.resolve();
      await this.flush();
    }
    this.time = target;
    await this.flush();
  }

  /** Moves time to an absolute clock value (never backwards). */
  async advanceTo(time: number): Promise<void> {
    await this.advance(Math.max(0, time - this.time));
  }

  /**
   * Fires pending sleeps one after another (advancing time to each) until none is left,
   * including sleeps scheduled meanwhile. Throws if work keeps scheduling sleeps forever.
   */
  async runAll(maxSleeps = 10_000): Promise<void> {
    await this.flush();
    for (let fired = 0; ; fired++) {
      const next = this.earliest();
      if (!next) return;
      if (fired >= maxSleeps) throw new Error(`FakeClock.runAll: still busy after ${maxSleeps} sleeps (a loop that never ends?)`);
      await this.advance(Math.max(0, next.due - this.time));
    }
  }

  /** Alias of runAll(). */
  advanceUntilIdle(maxSleeps?: number): Promise<void> {
    return this.runAll(maxSleeps);
  }

  /** Lets already-resolved promise chains run, without moving time. */
  async flush(): Promise<void> {
    for (let i = 0; i < this.turns; i++) await Promise.resolve();
  }

  /** Drops every pending sleep without resolving it (for afterEach hygiene). */
  reset(): void {
    for (const s of this.sleepers) s.detach();
    this.sleepers.clear();
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    }
    return best;
  }
}
