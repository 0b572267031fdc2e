// A cancellable progress notification for one MAOF request, narrated from the core's events:
// "Generating with claude-sonnet… (retry 2 after 429, waiting 3 s)". Cancel aborts the request.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { CoreEvents } from '../../core/maofCore';
import { narrate } from './progressText';

export interface ProgressRun {
  requestId: string;
  signal: AbortSignal;
  report(message: string): void;
  /** The agent currently answering, as far as the events tell. */
  currentAgent(): string | undefined;
}

export interface ProgressOptions {
  title: string;
  /** "Generating", "Analysing", … */
  verb: string;
  events: CoreEvents;
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
