// Limits how often a view is refreshed from a busy event stream: the first change is shown at
// once, changes within the interval are folded into one trailing refresh.

export interface ThrottleTimers {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realTimers: ThrottleTimers = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export class UpdateThrottle {
  private lastRun = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private disposed = false;

  constructor(
    private readonly run: () => void,
    private readonly intervalMs: number,
    private readonly timers: ThrottleTimers = realTimers,
  ) {}

  /** Something changed: refresh now, or once the interval since the last refresh has passed. */
  request(): void {
    if (this.disposed || this.cancelTimer) return;
    const wait = this.lastRun + this.intervalMs - this.timers.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.cancelTimer = this.timers.setTimer(() => {
      this.cancelTimer = undefined;
      this.fire();
    }, wait);
  }

  dispose(): void {
    this.disposed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private fire(): void {
    if (this.disposed) return;
    this.lastRun = this.timers.now();
    this.run();
  }
}
