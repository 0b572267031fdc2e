// The one MAOF log: a LogOutputChannel behind the core's Logger port. Every line is scrubbed of the
// keys the host has read and of key-looking strings before it reaches the channel; the last lines
// are also kept in memory so Diagnose and the integration tests can read what was logged.
import * as vscode from 'vscode';
import { createRedactingLogger, type LogLevel } from '../../core/logging/redactingLogger';
import { formatUsd } from '../../core/cost/costCalculator';
import type { MaofEvent } from '../../core/events';
import type { Logger } from '../../core/ports';

const KEEP_LINES = 500;

export interface HostLog extends vscode.Disposable {
  readonly logger: Logger;
  readonly channel: vscode.LogOutputChannel;
  /** The last lines written (already scrubbed), oldest first. */
  recentLines(): string[];
  show(): void;
}

export function createHostLog(knownSecrets: () => readonly string[]): HostLog {
  const channel = vscode.window.createOutputChannel('MAOF', { log: true });
  const lines: string[] = [];
  const sink = (level: LogLevel, line: string): void => {
    lines.push(`[${level}] ${line}`);
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
    switch (level) {
      case 'trace':
        channel.trace(line);
        break;
      case 'debug':
        channel.debug(line);
        break;
      case 'info':
        channel.info(line);
        break;
      case 'warn':
        channel.warn(line);
        break;
      case 'error':
        channel.error(line);
        break;
    }
  };
  // The channel filters by the level the user picked ("Developer: Set Log Level…"); we pass all.
  const logger = createRedactingLogger(sink, { level: 'trace', knownSecrets });
  return {
    logger,
    channel,
    recentLines: () => [...lines],
    show: () => channel.show(true),
    dispose: () => channel.dispose(),
  };
}

/** One log line per event worth reading later (failures are logged by the core itself). */
export function logEvent(logger: Logger, event: MaofEvent): void {
  const id = 'requestId' in event ? event.requestId.slice(0, 8) : '';
  switch (event.type) {
    case 'request.finished':
      if (event.ok) logger.info(`Request ${id} answered by "${event.agentId ?? '?'}" in ${event.durationMs} ms (${event.attempts} attempt${event.attempts === 1 ? '' : 's'}, ${formatUsd(event.costUsd)}${event.cached ? ', from cache' : ''}).`);
      break;
    case 'retry.scheduled':
      logger.info(`Request ${id}: "${event.agentId}" ${event.code}; retry ${event.attempt + 1} in ${event.waitMs} ms.`);
      break;
    case 'attempt':
      logger.debug(`Request ${id}: attempt ${event.attempt} with "${event.agentId}".`);
      break;
    case 'waiting':
      logger.info(`Request ${id}: waiting up to ${Math.max(0, event.until - event.at)} ms (${event.reason}${event.agentId ? `, "${event.agentId}"` : ''}).`);
      break;
    case 'queued':
      logger.info(`Request ${id}: waiting ${event.waitMs} ms for "${event.agentId}"'s ${event.reason} limit.`);
      break;
    case 'context.pruned':
      logger.debug(`Request ${id}: context ${event.keptTokens}/${event.budgetTokens} tokens for "${event.agentId}"${event.dropped.length ? `; dropped ${event.dropped.join(', ')}` : ''}${event.truncated.length ? `; truncated ${event.truncated.join(', ')}` : ''}${event.redactions ? `; ${event.redactions} secret(s) redacted` : ''}.`);
      break;
    case 'budget.alert':
      logger.warn(`Budget alert: ${Math.round(event.fraction * 100)} % of the ${event.period === 'month' ? 'monthly' : 'daily'} limit used (${formatUsd(event.spentUsd)} of ${formatUsd(event.limitUsd)}).`);
      break;
    default:
      break;
  }
}
