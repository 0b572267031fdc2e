// One attempt's own abort signal and deadlines: linked to the caller's cancel, armed with the
// agent's first-token and idle deadlines (resilience/deadlines.ts), told of every sign of life by
// the callbacks it hands the provider. A missed deadline aborts the attempt upstream and leaves a
// `stall` for the attempt to throw as STALLED. This is also the seam a hedge builds on: start an
// attempt with a guard, watch `firstPartAt` / `onFirstPart`, `abort()` the loser.
import { onAbort } from '../abortLinks';
import { MaofError } from '../errors';
import type { ToolCall } from '../types';
import { DeadlineWatch, type AttemptDeadlines, type DeadlineMiss } from '../resilience/deadlines';
import { anotherAgentCanAnswer } from './fallbackCheck';
import type { RequestContext } from './requestContext';

export class AttemptGuard {
  private readonly controller = new AbortController();
  private readonly unlink: () => void;
  private readonly watch: DeadlineWatch | undefined;
  /** The deadline this attempt missed, when it did (set before the abort). */
  stall: DeadlineMiss | undefined;
  /** Clock time of the attempt's first sign of life (text, tool call, thinking); undefined until then. */
  get firstPartAt(): number | undefined {
    return this.watch?.firstAt ?? this.firstAt;
  }
  private firstAt: number | undefined;

  constructor(
    private readonly ctx: RequestContext,
    readonly agentId: string,
    private readonly deadlines: AttemptDeadlines,
    /** The caller sees the text as it comes (else it is only counted, for billing an abort). */
    private readonly forward: boolean,
    /** Called once, at the first sign of life (a hedge's race ends there). */
    private readonly onFirstPart?: () => void,
  ) {
    this.unlink = onAbort(ctx.signal, () => this.controller.abort());
    const armed = deadlines.firstTokenMs !== undefined || deadlines.idleMs !== undefined;
    this.watch = armed ? new DeadlineWatch(ctx.services.clock, deadlines, (miss) => this.missed(miss)) : undefined;
  }

  /** The attempt's signal for the provider: the caller's cancel, a missed deadline, or abort(). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether a deadline can end this attempt early (then it is streamed on the wire to see signs of life). */
  get watching(): boolean {
    return this.watch !== undefined;
  }

  /** Stops the attempt upstream (a hedge's loser); what it streamed is billed as for a cancel. */
  abort(): void {
    this.controller.abort();
  }

  readonly onProgress = (): void => {
    if (this.firstAt === undefined) {
      this.firstAt = this.ctx.services.clock.now();
      this.onFirstPart?.();
    }
    this.watch?.alive();
  };

  readonly onDelta = (text: string): void => {
    this.onProgress();
    const deliver = this.forward ? this.ctx.onDelta : undefined;
    if (deliver) deliver(text);
    else this.ctx.streamedChars += text.length;
  };

  readonly onToolCall = (call: ToolCall): void => {
    this.onProgress();
    this.ctx.onToolCall?.(call);
  };

  dispose(): void {
    this.watch?.dispose();
    this.unlink();
  }

  /**
   * A learned or cold-start first-token deadline never cuts the last agent the request can still
   * try (Bifrost's rule): a slow but only agent still answers. A user's own setting and the idle
   * deadline do.
   */
  private missed(miss: DeadlineMiss): void {
    if (miss.kind === 'idle' || this.deadlines.firstTokenSource === 'setting') return this.stop(miss);
    void anotherAgentCanAnswer(this.ctx).then(
      (can) => {
        if (this.firstPartAt !== undefined || this.controller.signal.aborted) return;
        if (can) this.stop({ kind: miss.kind, silentMs: this.ctx.services.clock.now() - (this.watch?.sentAt ?? 0) });
        else this.watch?.keepWaiting();
      },
      () => this.watch?.keepWaiting(),
    );
  }

  private stop(miss: DeadlineMiss): void {
    this.stall = miss;
    this.controller.abort();
  }
}

/** What the user reads when an agent went quiet: the agent, the silence, and what happens next. */
export function stalledError(agentId: string, provider: string, miss: DeadlineMiss, partShown: boolean): MaofError {
  const s = Math.max(1, Math.round(miss.silentMs / 1000));
  const where = miss.kind === 'first-token' ? 'before its first token' : 'in the middle of its answer';
  const message = partShown
    ? `Agent "${agentId}" went silent for ${s} s in the middle of its answer, so the answer above is incomplete — try again, or raise the agent's idleTimeoutMs if it pauses that long.`
    : `Agent "${agentId}" went silent for ${s} s ${where} — MAOF moved on to the next agent; raise the agent's ${miss.kind === 'first-token' ? 'firstTokenTimeoutMs' : 'idleTimeoutMs'} (0 turns it off) if it is just slow.`;
  return new MaofError('STALLED', message, { agentId, provider, detail: `${miss.kind} deadline missed after ${miss.silentMs} ms of silence` });
}
