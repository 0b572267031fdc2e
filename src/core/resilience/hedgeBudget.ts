// The cap on hedges (issue 18 §4): a token bucket that each request on a hedged route fills by
// `maxShare` of a hedge and each hedge empties by one, so hedges stay at most `maxShare` of those
// requests plus a `burst`, however slow every agent gets — a general slowdown cannot double the load.
import type { HedgingPolicy } from '../config/schema';

export class HedgeBudget {
  private tokens: number | undefined;

  /** `policy` is read on each use: a settings change applies at once. */
  constructor(private readonly policy: () => HedgingPolicy) {}

  /** A request on a hedged route: a share of a hedge more is allowed. */
  credit(): void {
    const { burst, maxShare } = this.policy();
    this.tokens = Math.min(burst, this.level() + maxShare);
  }

  /** Takes one hedge if the bucket holds one; false: the request waits for its primary alone. */
  take(): boolean {
    const level = this.level();
    if (level < 1) return false;
    this.tokens = level - 1;
    return true;
  }

  /** Hedges the bucket holds now (starts full: a burst is allowed after start-up). */
  level(): number {
    return Math.min(this.policy().burst, this.tokens ?? this.policy().burst);
  }
}
