// Deadlines for an attempt that goes quiet: one for the first sign of an answer, one between chunks.
// `deadlinesFor` decides them per attempt (the agent's own setting, else learned from its answers,
// else the cold-start default); `DeadlineWatch` measures them on the Clock port and says which one
// was missed. What counts as a sign of life is the adapters' `onProgress` (see ARCHITECTURE.md).
import type { AgentConfig, DeadlinePolicy } from '../config/schema';
import type { Clock } from '../ports';
import type { LatencyStats } from './latencyStats';

/** Answers an agent must have given before its own first-token deadline replaces the cold-start one. */
export const LEARN_MIN_SAMPLES = 5;
/** The learned deadline: this percentile of the agent's time to first token … */
export const LEARN_PERCENTILE = 0.95;
/** … times this factor … */
export const LEARN_FACTOR = 4;
/** … kept within these bounds: a fast model's hiccup is not death, a slow one still gets cut. */
export const LEARN_FLOOR_MS = 8_000;
export const LEARN_CEILING_MS = 90_000;

export type FirstTokenSource = 'setting' | 'learned' | 'cold-start' | 'off';

export interface AttemptDeadlines {
  /** Ms from sending to the first sign of life; undefined: none. */
  firstTokenMs: number | undefined;
  /** Where the first-token deadline comes from; 'setting' applies even to the last agent a request can try. */
  firstTokenSource: FirstTokenSource;
  /** Ms of silence allowed between two signs of life once the first came; undefined: none. */
  idleMs: number | undefined;
}

/** The first-token deadline the agent would get, and where it comes from (shown by `maof breakers`, the dashboard). */
export function firstTokenDeadline(agent: AgentConfig, policy: DeadlinePolicy, stats: LatencyStats): { ms: number | undefined; source: FirstTokenSource } {
  if (agent.firstTokenTimeoutMs !== undefined) return agent.firstTokenTimeoutMs > 0 ? { ms: agent.firstTokenTimeoutMs, source: 'setting' } : { ms: undefined, source: 'off' };
  if (!policy.enabled) return { ms: undefined, source: 'off' };
  if (stats.samples(agent.id) < LEARN_MIN_SAMPLES) return { ms: policy.firstTokenMs, source: 'cold-start' };
  const p = stats.ttftPercentile(agent.id, LEARN_PERCENTILE) ?? 0;
  return { ms: Math.round(Math.min(LEARN_CEILING_MS, Math.max(LEARN_FLOOR_MS, p * LEARN_FACTOR))), source: 'learned' };
}

/** The idle deadline in force for the agent: its own setting, else the policy's. */
export function idleDeadline(agent: AgentConfig, policy: DeadlinePolicy): number | undefined {
  if (agent.idleTimeoutMs !== undefined) return agent.idleTimeoutMs > 0 ? agent.idleTimeoutMs : undefined;
  return policy.enabled ? policy.idleMs : undefined;
}

export function deadlinesFor(agent: AgentConfig, policy: DeadlinePolicy, stats: LatencyStats): AttemptDeadlines {
  const first = firstTokenDeadline(agent, policy, stats);
  return { firstTokenMs: first.ms, firstTokenSource: first.source, idleMs: idleDeadline(agent, policy) };
}

export interface DeadlineMiss {
  kind: 'first-token' | 'idle';
  /** How long the attempt had been silent when the deadline passed. */
  silentMs: number;
}

/**
 * Watches one attempt: armed when it is sent, told of each sign of life (`alive`), calls `onMiss`
 * once when a deadline passes. Activity only stores a timestamp (no timer work per chunk); one timer
 * serves both deadlines. `onMiss` may decline a first-token miss (`keepWaiting`): the watch then
 * waits for the first sign of life with no deadline, and the idle deadline after it.
 */
export class DeadlineWatch {
  /** Clock time of the first sign of life; undefined until it came. */
  firstAt: number | undefined;
  private last: number;
  private cancel: (() => void) | undefined;
  private stopper: AbortController | undefined;
  private done = false;
  private firstTokenMs: number | undefined;
  private readonly idleMs: number | undefined;

  constructor(
    private readonly clock: Clock,
    deadlines: AttemptDeadlines,
    private readonly onMiss: (miss: DeadlineMiss) => void,
    readonly sentAt = clock.now(),
  ) {
    this.last = sentAt;
    this.firstTokenMs = deadlines.firstTokenMs;
    this.idleMs = deadlines.idleMs;
    this.schedule();
  }

  /** A sign of life: text, a tool call's arguments, thinking. */
  alive(): void {
    const now = this.clock.now();
    this.last = now;
    if (this.firstAt === undefined) {
      this.firstAt = now;
      // The first-token timer may be far shorter than the idle one: re-arm for the idle deadline.
      this.rearm();
    }
  }

  /** After a declined first-token miss: no first-token deadline any more. */
  keepWaiting(): void {
    this.firstTokenMs = undefined;
    this.rearm();
  }

  dispose(): void {
    this.done = true;
    this.cancel?.();
    this.cancel = undefined;
    this.stopper?.abort();
  }

  /** Ms until the deadline in force passes, measured from the last sign of life; undefined: none. */
  private remaining(now: number): number | undefined {
    if (this.firstAt === undefined) return this.firstTokenMs === undefined ? undefined : this.sentAt + this.firstTokenMs - now;
    return this.idleMs === undefined ? undefined : this.last + this.idleMs - now;
  }

  private check(): void {
    if (this.done) return;
    const now = this.clock.now();
    const left = this.remaining(now);
    if (left === undefined) return;
    if (left > 0) return this.arm(left);
    const kind = this.firstAt === undefined ? 'first-token' : 'idle';
    this.done = kind === 'idle';
    this.onMiss({ kind, silentMs: now - this.last });
  }

  private rearm(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.stopper?.abort();
    this.stopper = undefined;
    this.schedule();
  }

  private schedule(): void {
    const left = this.remaining(this.clock.now());
    if (left !== undefined && !this.done) this.arm(Math.max(0, left));
  }

  private arm(ms: number): void {
    if (this.clock.setTimer) {
      this.cancel = this.clock.setTimer(ms, () => {
        this.cancel = undefined;
        this.check();
      });
      return;
    }
    const stopper = (this.stopper = new AbortController());
    this.clock.sleep(ms, stopper.signal).then(
      () => {
        if (this.stopper === stopper) this.stopper = undefined;
        this.check();
      },
      () => undefined,
    );
  }
}
