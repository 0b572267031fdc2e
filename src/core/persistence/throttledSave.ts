// Saves one piece of persisted state without saving on every change: the first change after a
// quiet spell is saved at once, a busy spell once per interval, an urgent change and flush() at once.
import type { Clock } from '../ports';

export class ThrottledSave {
  private writing: Promise<void> | undefined;
  private dirty = false;
  private hurry = false;
  private lastSaveAt = Number.NEGATIVE_INFINITY;
  private pause: AbortController | undefined;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Marks the state changed. `urgent` (a breaker that opened) skips the interval. */
  request(urgent = false): void {
    this.dirty = true;
    if (urgent) this.cutWait();
    this.writing ??= this.writeLoop();
  }

  /** Resolves once everything requested so far has been handed to the store. */
  async flush(): Promise<void> {
    while (this.writing) {
      this.cutWait();
      await this.writing;
    }
  }

  private cutWait(): void {
    this.hurry = true;
    this.pause?.abort();
  }

  private async writeLoop(): Promise<void> {
    try {
      // Yield once: changes made in the same tick become one save, and `writing` is set before this ends.
      await Promise.resolve();
      while (this.dirty) {
        await this.waitForInterval();
        this.dirty = false;
        this.hurry = false;
        this.lastSaveAt = this.clock.now();
        try {
          await this.save();
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.writing = undefined;
      this.hurry = false;
    }
  }

  private async waitForInterval(): Promise<void> {
    const wait = this.lastSaveAt + this.intervalMs - this.clock.now();
    if (this.hurry || !(wait > 0)) return;
    const pause = (this.pause = new AbortController());
    try {
      await this.clock.sleep(wait, pause.signal);
    } catch {
      // cut short by an urgent change or flush()
    } finally {
      this.pause = undefined;
    }
  }
}
