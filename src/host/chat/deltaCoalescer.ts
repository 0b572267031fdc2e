// Turns a fast stream of model deltas into few webview messages: the first delta goes out at once
// (time to first token is what users feel), later ones arriving in the same tick are joined.

export type Schedule = (flush: () => void) => void;

/** Runs after pending I/O callbacks, so every delta parsed from the same socket reads is joined. */
export const nextTick: Schedule = (flush) => {
  setImmediate(flush);
};

export class DeltaCoalescer {
  private pending = '';
  private scheduled = false;
  private sentFirst = false;
  private closed = false;
  /** Bumped by reset(), so a flush scheduled before it posts nothing. */
  private generation = 0;

  constructor(
    private readonly post: (text: string) => void,
    private readonly schedule: Schedule = nextTick,
  ) {}

  push(text: string): void {
    if (this.closed || text === '') return;
    if (!this.sentFirst) {
      this.sentFirst = true;
      this.post(text);
      return;
    }
    this.pending += text;
    if (this.scheduled) return;
    this.scheduled = true;
    const generation = this.generation;
    this.schedule(() => {
      if (generation !== this.generation) return;
      this.flush();
    });
  }

  /** Posts whatever is waiting now (before the final message of a stream). */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.post(text);
  }

  /** A retry started: drop what is waiting; the next delta is again a "first" one. */
  reset(): void {
    this.generation++;
    this.pending = '';
    this.scheduled = false;
    this.sentFirst = false;
  }

  /** Flushes and stops posting (the stream ended or was abandoned). */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
