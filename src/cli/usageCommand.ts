// `maof usage [--month YYYY-MM | --since DATE] [--by day|agent|task|source] [--json]`: spend over
// the whole history and where the budget stands, the same numbers as the dashboard and Export
// Usage (core/usage/usageReport.ts builds all three).
import type { UsageGroupBy } from '../core/persistence/usageHistory';
import { monthOf, monthPeriod, sincePeriod, type UsagePeriod } from '../core/usage/usagePeriod';
import type { BudgetStanding, UsageStatement } from '../core/usage/usageReport';
import { formatUsd, plural } from '../shared/format';

export const USAGE_GROUPS: readonly UsageGroupBy[] = ['day', 'agent', 'task', 'source'];

export interface UsageArgs {
  month?: string;
  since?: string;
  by?: string;
}

export type ParsedUsageArgs = { ok: true; period: UsagePeriod; by?: UsageGroupBy } | { ok: false; message: string };

/** The period and grouping asked for; a bad flag is named with what it takes. Default: the current UTC month. */
export function parseUsageArgs(args: UsageArgs, now: number): ParsedUsageArgs {
  if (args.month !== undefined && args.since !== undefined) return { ok: false, message: '--month and --since cannot be combined: use --month YYYY-MM for one month, or --since YYYY-MM-DD for everything from a day on' };
  let period: UsagePeriod | undefined;
  if (args.since !== undefined) {
    period = sincePeriod(args.since);
    if (!period) return { ok: false, message: `--since takes a date as YYYY-MM-DD (UTC), e.g. --since ${monthOf(now)}-01; "${args.since}" is not one` };
  } else {
    const month = args.month ?? monthOf(now);
    period = monthPeriod(month);
    if (!period) return { ok: false, message: `--month takes a month as YYYY-MM, e.g. --month ${monthOf(now)}; "${month}" is not one` };
  }
  if (args.by === undefined) return { ok: true, period };
  const by = USAGE_GROUPS.find((g) => g === args.by);
  if (!by) return { ok: false, message: `--by takes one of ${USAGE_GROUPS.join(', ')}; "${args.by}" is not one` };
  return { ok: true, period, by };
}

function ofLimit(spent: number, limit: number | undefined, left: number | undefined, what: string): string {
  if (limit === undefined) return `${formatUsd(spent)} (no ${what} limit)`;
  return `${formatUsd(spent)} of ${formatUsd(limit)} · ${formatUsd(left ?? 0)} left`;
}

function budgetLines(b: BudgetStanding): string[] {
  const lines = [`Budget     this month (${b.month}): ${ofLimit(b.monthUsd, b.monthlyLimitUsd, b.monthLeftUsd, 'monthly')}`, `           today (${b.day}): ${ofLimit(b.dayUsd, b.dailyLimitUsd, b.dayLeftUsd, 'daily')}`];
  if (b.reservedUsd > 0) lines.push(`           ${formatUsd(b.reservedUsd)} reserved by requests in flight`);
  return lines;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  // Text columns left, numbers right, as a terminal reader scans them.
  return rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ').trimEnd());
}

/** The statement for a terminal: totals, the groups asked for, and the budget. */
export function formatUsageStatement(s: UsageStatement): string {
  const t = s.totals;
  const hits = t.cacheHits > 0 ? ` · ${plural(t.cacheHits, 'cache hit')} (saved ${formatUsd(t.savedUsd)})` : '';
  const lines = [
    `MAOF usage — ${s.period.label} (UTC)`,
    `Spent      ${formatUsd(t.costUsd)} · ${plural(t.requests, 'request')}${hits}`,
    `Tokens     ${t.inputTokens.toLocaleString('en-US')} in · ${t.outputTokens.toLocaleString('en-US')} out · ${t.cacheReadTokens.toLocaleString('en-US')} cache read · ${t.cacheWriteTokens.toLocaleString('en-US')} cache write`,
    ...budgetLines(s.budget),
  ];
  if (s.by) {
    lines.push('');
    if (s.groups.length === 0) lines.push(`No requests in ${s.period.label}.`);
    else lines.push(...table([[s.by.toUpperCase(), 'SPENT', 'REQUESTS', 'CACHE HITS'], ...s.groups.map((g) => [g.key, formatUsd(g.costUsd), String(g.requests), String(g.cacheHits)])]));
  }
  return lines.join('\n');
}
