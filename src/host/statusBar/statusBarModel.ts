// The status bar item's text, tooltip and warning state from the month's spend and the breakers.
// No vscode import: tested in Node.
import { formatUsd } from '../../core/cost/costCalculator';
import type { SpendSummary } from '../../core/cost/costLedger';
import type { BreakerState, WaitReason } from '../../core/events';
import { WAIT_VOCABULARY } from '../../shared/errorVocabulary';

/** Requests waiting instead of failing, as the status bar shows them: how many, and the soonest end. */
export interface Waiting {
  count: number;
  reason: WaitReason;
  /** Seconds until the soonest wait ends (at the latest). */
  seconds: number;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** A breaker is open or a budget alert fired this period. */
  warning: boolean;
  /** What a screen reader says. */
  ariaLabel: string;
}

export interface AgentBreaker {
  agentId: string;
  state: BreakerState;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

function ofLimit(spent: number, limit: number | undefined): string {
  if (limit === undefined) return formatUsd(spent);
  const share = limit > 0 ? ` (${percent(spent / limit)})` : '';
  return `${formatUsd(spent)} of ${formatUsd(limit)}${share}`;
}

export function statusBarView(summary: SpendSummary, breakers: readonly AgentBreaker[], waiting?: Waiting): StatusBarView {
  const limit = summary.monthlyLimitUsd;
  const amount = limit !== undefined ? `${formatUsd(summary.monthUsd)} / ${formatUsd(limit)}` : formatUsd(summary.monthUsd);
  const open = breakers.filter((b) => b.state === 'open').map((b) => b.agentId);
  const halfOpen = breakers.filter((b) => b.state === 'half-open').map((b) => b.agentId);
  const alerts: string[] = [];
  if (summary.monthAlert !== undefined) alerts.push(`Monthly budget alert: ${percent(summary.monthAlert)} reached`);
  if (summary.dayAlert !== undefined) alerts.push(`Daily budget alert: ${percent(summary.dayAlert)} reached`);
  const warning = open.length > 0 || alerts.length > 0;

  const lines = [
    `MAOF — this month (${summary.month}): ${ofLimit(summary.monthUsd, limit)}`,
    `Today: ${ofLimit(summary.dayUsd, summary.dailyLimitUsd)}`,
  ];
  if (summary.reservedUsd > 0) lines.push(`Reserved by requests in flight: ${formatUsd(summary.reservedUsd)}`);
  lines.push(`Cache: ${summary.cacheHits} hit${summary.cacheHits === 1 ? '' : 's'}, saved ${formatUsd(summary.savedUsd)}`);
  if (open.length === 0 && halfOpen.length === 0) lines.push('Circuit breakers: all closed');
  else {
    const parts: string[] = [];
    if (open.length > 0) parts.push(`open: ${open.join(', ')}`);
    if (halfOpen.length > 0) parts.push(`half-open: ${halfOpen.join(', ')}`);
    lines.push(`Circuit breakers — ${parts.join('; ')}`);
  }
  lines.push(...alerts);
  const waitText = waiting && waiting.count > 0 ? `${waiting.count} request${waiting.count === 1 ? '' : 's'} waiting ${WAIT_VOCABULARY[waiting.reason].forWhat} (${waiting.seconds} s)` : '';
  if (waitText) lines.push(waitText);
  lines.push('', 'Click for the last requests (which agent answered, why, what it cost) and the dashboard');

  const problems = [open.length > 0 ? `${open.length} circuit breaker${open.length === 1 ? '' : 's'} open` : '', ...alerts].filter(Boolean);
  return {
    text: `$(pulse) MAOF ${amount}${waitText ? ` $(watch) ${waiting!.seconds} s` : ''}`,
    tooltip: lines.join('\n'),
    warning,
    ariaLabel: `MAOF spend this month ${amount.replace(' / ', ' of ')}${problems.length > 0 ? `. ${problems.join('. ')}` : ''}${waitText ? `. ${waitText}` : ''}`,
  };
}
