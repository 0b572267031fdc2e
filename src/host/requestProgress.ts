// A cancellable progress notification for one MAOF request, narrated from the core's events:
// "Generating with claude-sonnet… (retry 2 after 429, waiting 3 s)". Cancel aborts the request.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { ErrorCode } from '../core/errors';
import type { EventBus, MaofEvent } from '../core/events';

export interface ProgressRun {
  requestId: string;
  signal: AbortSignal;
  report(message: string): void;
  /** The agent currently answering, as far as the events tell. */
  currentAgent(): string | undefined;
}

const REASON: Partial<Record<ErrorCode, string>> = {
  RATE_LIMITED: '429',
  OVERLOADED: 'overload',
  TIMEOUT: 'timeout',
  NETWORK: 'network error',
  UPSTREAM: 'server error',
  AUTH: 'key rejected',
  CIRCUIT_OPEN: 'paused',
  CONTEXT_TOO_LARGE: 'context too large',
  INVALID_OUTPUT: 'invalid output',
};

export function reasonLabel(code: ErrorCode): string {
  return REASON[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/** The progress line for an event of the tracked request, or undefined when nothing changes. */
export function narrate(verb: string, event: MaofEvent, current: { agent?: string }): string | undefined {
  switch (event.type) {
    case 'request.started':
      current.agent = event.agents[0];
      return current.agent ? `${verb} with ${current.agent}…` : undefined;
    case 'attempt':
      current.agent = event.agentId;
      return event.attempt > 1 ? `${verb} with ${event.agentId}… (attempt ${event.attempt})` : `${verb} with ${event.agentId}…`;
    case 'retry.scheduled':
      return `${verb} with ${event.agentId}… (retry ${event.attempt + 1} after ${reasonLabel(event.code)}, waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s)`;
    case 'fallback':
      current.agent = event.to;
      return `${verb} with ${event.to}… (${event.from} failed: ${reasonLabel(event.reason)})`;
    case 'queued':
      return `${verb} with ${event.agentId}… (waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s for the rate limit)`;
    default:
      return undefined;
  }
}

export interface ProgressOptions {
  title: string;
  /** "Generating", "Analysing", … */
  verb: string;
  events: EventBus;
  /** Track events of any request (fan-out and chains make their own request ids). */
  anyRequest?: boolean;
}

export function withRequestProgress<T>(options: ProgressOptions, fn: (run: ProgressRun) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: options.title, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    const cancel = token.onCancellationRequested(() => controller.abort());
    const requestId = randomUUID();
    const current: { agent?: string } = {};
    const report = (message: string): void => progress.report({ message });
    const unsubscribe = options.events.on((event) => {
      const id = 'requestId' in event ? event.requestId : undefined;
      if (!options.anyRequest && id !== requestId) return;
      const line = narrate(options.verb, event, current);
      if (line) report(line);
    });
    try {
      return await fn({ requestId, signal: controller.signal, report, currentAgent: () => current.agent });
    } finally {
      unsubscribe();
      cancel.dispose();
    }
  });
}
