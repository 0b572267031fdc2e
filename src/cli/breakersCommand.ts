// `maof breakers` (each agent's circuit breaker: state, consecutive failures, time to half-open)
// and `maof breakers reset [AGENT]`, over the breaker state the CLI persists between runs.
import { formatDuration } from '../shared/format';
import { MaofError, type ErrorCode } from '../core/errors';
import type { BreakerState } from '../core/events';
import type { BreakerRegistry } from '../core/resilience/circuitBreaker';

export interface BreakerRow {
  agent: string;
  state: BreakerState;
  consecutiveFailures: number;
  /** Until an open breaker lets a probe through; 0 when half-open; absent when closed. */
  halfOpenInMs?: number;
  lastFailure?: ErrorCode;
}

/** One row per configured agent, in config order. */
export function breakerRows(registry: BreakerRegistry, agentIds: readonly string[]): BreakerRow[] {
  return agentIds.map((agent) => {
    const breaker = registry.get(agent);
    const snap = breaker.snapshot();
    const row: BreakerRow = { agent, state: snap.state, consecutiveFailures: snap.consecutiveFailures };
    const wait = breaker.halfOpenInMs();
    if (wait !== undefined) row.halfOpenInMs = wait;
    // A failure the breaker has since forgiven (a success came after it) is not news.
    if (snap.lastFailureCode !== undefined && (snap.state !== 'closed' || snap.consecutiveFailures > 0)) row.lastFailure = snap.lastFailureCode;
    return row;
  });
}

/** A plain-text table for a terminal: columns padded, no colours, one agent a line. */
export function formatBreakerTable(rows: readonly BreakerRow[]): string {
  const table = [
    ['AGENT', 'STATE', 'FAILURES', 'HALF-OPEN IN', 'LAST FAILURE'],
    ...rows.map((r) => [
      r.agent,
      r.state,
      String(r.consecutiveFailures),
      r.halfOpenInMs === undefined ? '-' : r.halfOpenInMs === 0 ? 'now' : formatDuration(r.halfOpenInMs),
      r.lastFailure ?? '-',
    ]),
  ];
  const widths = table[0].map((_, col) => Math.max(...table.map((line) => line[col].length)));
  return table.map((line) => line.map((cell, col) => (col === line.length - 1 ? cell : cell.padEnd(widths[col]))).join('  ')).join('\n');
}

/**
 * Resets one agent's breaker, or every one when no agent is named. An id that is neither configured
 * nor remembered is a mistake worth naming, with the ids that would work.
 */
export function resetBreakers(registry: BreakerRegistry, agentIds: readonly string[], agent: string | undefined): string[] {
  if (agent === undefined) {
    const tripped = agentIds.filter((id) => hasFailures(registry, id));
    registry.resetAll();
    return tripped;
  }
  if (!agentIds.includes(agent) && !registry.has(agent)) {
    throw new MaofError('CONFIG', `No agent "${agent}" — known agents: ${agentIds.join(', ')}.`);
  }
  const tripped = hasFailures(registry, agent);
  registry.reset(agent);
  return tripped ? [agent] : [];
}

function hasFailures(registry: BreakerRegistry, agent: string): boolean {
  const breaker = registry.get(agent);
  return breaker.state !== 'closed' || breaker.snapshot().consecutiveFailures > 0;
}
