// One typed event stream: the dashboard, status bar, chat, CLI and log all read it.
import type { ErrorCode } from './errors';
import type { Usage } from './types';
import type { WaitReason } from '../shared/errorVocabulary';

export type BreakerState = 'closed' | 'open' | 'half-open';
export type AttemptOutcome = 'ok' | 'cached' | 'skipped' | ErrorCode;
/** Why a request waits instead of failing: a provider's 429 pause, an open breaker, budget held in flight (worded in the shared vocabulary). */
export type { WaitReason };

interface Base {
  /** Clock time (ms since epoch) when the event happened. */
  at: number;
}

export type MaofEvent =
  | (Base & { type: 'request.started'; requestId: string; task: string; agents: string[]; pattern: 'single' })
  | (Base & { type: 'attempt'; requestId: string; agentId: string; attempt: number })
  /** elapsedMs: how long the failed attempt took (a gateway retrying on its own makes it long). */
  | (Base & { type: 'retry.scheduled'; requestId: string; agentId: string; attempt: number; waitMs: number; code: ErrorCode; elapsedMs?: number })
  | (Base & { type: 'fallback'; requestId: string; from: string; to: string; reason: ErrorCode })
  /** The primary had produced nothing after `delayMs`: the same request went to `hedgeAgentId` too. */
  | (Base & { type: 'hedge.sent'; requestId: string; agentId: string; hedgeAgentId: string; delayMs: number })
  /** A hedged request's race is decided: `agentId` produced a part first, `loserId` was aborted. */
  | (Base & { type: 'hedge.won'; requestId: string; agentId: string; loserId: string })
  | (Base & { type: 'agent.skipped'; requestId: string; agentId: string; reason: 'CIRCUIT_OPEN' | 'CONTEXT_TOO_LARGE' | 'CONFIG' | 'PRICE_UNKNOWN' })
  | (Base & { type: 'breaker.changed'; agentId: string; from: BreakerState; to: BreakerState; reason?: ErrorCode })
  | (Base & { type: 'cache.hit'; requestId: string; agentId: string; savedUsd: number })
  /**
   * A conversation's turn was answered by another agent than the one whose provider holds its
   * prompt in cache: `cachedTokens` are paid again, at an estimated `extraCostUsd`.
   */
  | (Base & { type: 'promptCache.lost'; requestId: string; from: string; to: string; reason: ErrorCode | 'agent-changed'; cachedTokens: number; extraCostUsd: number })
  /**
   * The request waits instead of failing; `until` is the clock time the wait ends at the latest
   * (a budget wait ends when reservations settle: `until` is then its deadline). Shown as a countdown.
   */
  | (Base & { type: 'waiting'; requestId: string; agentId?: string; reason: WaitReason; until: number })
  | (Base & { type: 'queued'; requestId: string; agentId: string; waitMs: number; reason: 'rpm' | 'tpm' })
  | (Base & { type: 'context.pruned'; requestId: string; agentId: string; keptTokens: number; budgetTokens: number; dropped: string[]; truncated: string[]; redactions: number })
  | (Base & { type: 'usage'; requestId: string; agentId: string; usage: Usage; costUsd: number; /** No usage from the provider: counted with the tokenizer. */ estimated?: boolean; /** What the provider's prompt cache saved on this call (negative: a write that costs more than input). */ promptCacheSavedUsd?: number })
  | (Base & { type: 'budget.alert'; period: 'month' | 'day'; fraction: number; spentUsd: number; limitUsd: number })
  | (Base & { type: 'request.finished'; requestId: string; ok: boolean; agentId?: string; errorCode?: ErrorCode; durationMs: number; costUsd: number; attempts: number; cached: boolean });

export type MaofEventType = MaofEvent['type'];
export type EventOf<T extends MaofEventType> = Extract<MaofEvent, { type: T }>;

export type Listener = (event: MaofEvent) => void;

export interface Unsubscribe {
  (): void;
}

/** A synchronous, typed event bus. A throwing listener never breaks a request. */
export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => undefined) {
    this.onListenerError = onListenerError;
  }

  on(listener: Listener): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  onType<T extends MaofEventType>(type: T, listener: (event: EventOf<T>) => void): Unsubscribe {
    return this.on((event) => {
      if (event.type === type) listener(event as EventOf<T>);
    });
  }

  emit(event: MaofEvent): void {
    if (this.listeners.size === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Whether anyone listens: a hot path may skip building an event nobody would see. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
