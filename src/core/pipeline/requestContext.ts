// The one object a request carries through the pipeline's stages: what was asked, what it has
// cost and tried so far, and the shared services. Each stage is a plain function over it.
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { lastUserText, ZERO_USAGE, type ToolCall, type Usage } from '../types';
import type { PruneReport } from '../context/contextPruner';
import type { Classification } from '../router/taskClassifier';
import type { AttemptRecord, RunRequest } from './types';
import type { MaofEvent } from '../events';
import { conversationKeyOf } from '../promptLayout';
import type { PipelineServices } from './services';
import type { AgentConfig } from '../config/schema';

/**
 * The signal of requests that came without one. Shared, not one AbortController per request: each
 * call links to it only while it runs and removes its listener after, so any number may be linked.
 */
const NEVER_ABORTED = new AbortController().signal;
/** Callers' signals already freed from the listener warning (once per signal is enough). */
const UNCAPPED_SIGNALS = new WeakSet<AbortSignal>();
setMaxListeners(0, NEVER_ABORTED);

type SkipReason = Extract<MaofEvent, { type: 'agent.skipped' }>['reason'];

/** A conversation whose last user turn is only tool results has no text to classify; this stands in. */
const CONTINUE_TEXT = '(continue)';

export class RequestContext {
  readonly requestId: string;
  readonly started: number;
  /** When the current call's first streamed text arrived (time to first token, kept in the usage history). */
  firstDeltaAt: number | undefined;
  /** 'auto' until classified. */
  task: string;
  readonly attempts: AttemptRecord[] = [];
  usage: Usage = ZERO_USAGE;
  costUsd = 0;
  readonly signal: AbortSignal;
  readonly source: string | undefined;
  /** The caller's conversation is sent as it is (`instructions: 'own'`): no task prompt, history or structured spec. */
  readonly own: boolean;
  /** The last user turn's text: what validation checks, `auto` classifies and session memory keeps. */
  readonly text: string;
  /**
   * The conversation the request is a turn of (prompt caching, sticky routing); undefined for a
   * one-shot request. Not readonly: a side request (the classifier's) is made one-shot.
   */
  conversationKey: string | undefined;
  classification?: Classification;
  pruned?: PruneReport;
  /** Text or tool calls reached the caller in this attempt: a new attempt must tell it to discard them. */
  deltasDelivered = false;
  /** Characters streamed by the call in flight, billed if the caller cancels it. */
  streamedChars = 0;
  usageEstimated?: boolean;
  promptCacheSavedUsd?: number;
  /**
   * What may still take the request if the agent in flight is given up on: the route's agents from
   * `fallbackFrom` on (set by the route stage), or anything at all (`'always'`: the classifier, whose
   * heuristics answer when its agent does not). Read lazily, only when a deadline passes.
   */
  fallbacks: readonly AgentConfig[] | 'always' | undefined;
  fallbackFrom = 0;
  /** The caller's onDelta, counting what was streamed (bound once, only when the caller streams). */
  readonly onDelta: ((text: string) => void) | undefined;
  readonly onToolCall: ((call: ToolCall) => void) | undefined;

  constructor(
    readonly services: PipelineServices,
    readonly req: RunRequest,
    requestId?: string,
  ) {
    // Callers share one signal across concurrent runs (`maof batch`, fan-out): each run in flight
    // links to it, which is no leak, so Node's "11 listeners" warning must not fire.
    if (req.signal && !UNCAPPED_SIGNALS.has(req.signal)) {
      setMaxListeners(0, req.signal);
      UNCAPPED_SIGNALS.add(req.signal);
    }
    this.requestId = requestId ?? req.requestId ?? randomUUID();
    this.started = services.clock.now();
    this.task = req.task && req.task !== 'auto' ? req.task : 'auto';
    this.source = req.source;
    this.signal = req.signal ?? NEVER_ABORTED;
    this.own = req.instructions === 'own';
    this.conversationKey = conversationKeyOf(req);
    const messages = Array.isArray(req.messages) ? req.messages : [];
    const text = lastUserText(messages);
    this.text = text || (this.own && messages.length > 0 ? CONTINUE_TEXT : text);
    const onDelta = req.onDelta;
    this.onDelta = onDelta
      ? (delta: string): void => {
          this.streamedChars += delta.length;
          this.firstDeltaAt ??= this.services.clock.now();
          this.deltasDelivered = true;
          onDelta(delta);
        }
      : undefined;
    const onToolCall = req.onToolCall;
    this.onToolCall = onToolCall
      ? (call: ToolCall): void => {
          this.deltasDelivered = true;
          onToolCall(call);
        }
      : undefined;
  }

  /** An agent passed over before anything was sent to it: said in an event and in the attempts. */
  skip(agentId: string, reason: SkipReason, outcome: AttemptRecord['outcome']): void {
    this.services.emit({ type: 'agent.skipped', at: this.services.clock.now(), requestId: this.requestId, agentId, reason });
    this.attempts.push({ agent: agentId, outcome });
  }
}
