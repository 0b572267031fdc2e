// What `maof usage`, Export Usage and the dashboard say about spend: a period's totals (and per
// day, agent, task or source) from the whole history, and where the budget stands now. One builder
// for all three, so they cannot disagree by a cent: money is summed in nano-dollars by SQLite and
// turned into dollars once (usageHistory.ts).
import { budgetHeadroom, type SpendSummary } from '../cost/costLedger';
import { nanoToUsd, usdToNano } from '../cost/costCalculator';
import type { UsageGroup, UsageGroupBy, UsageHistory, UsageTotals } from '../persistence/usageHistory';
import { monthPeriod, periodQuery, type UsagePeriod } from './usagePeriod';

/** The budget now (the current UTC month and day), whatever period the report covers. */
export interface BudgetStanding {
  month: string;
  monthUsd: number;
  monthlyLimitUsd?: number;
  /** Limit − spent − reserved, never below 0; absent without a monthly limit. */
  monthLeftUsd?: number;
  day: string;
  dayUsd: number;
  dailyLimitUsd?: number;
  dayLeftUsd?: number;
  /** Worst cases of requests in flight in every MAOF process. */
  reservedUsd: number;
  /** Before the tightest limit; absent when no limit is set. */
  leftUsd?: number;
}

export interface ReportPeriod {
  kind: UsagePeriod['kind'];
  label: string;
  /** ISO times: inclusive start, exclusive end. */
  from?: string;
  to?: string;
}

export interface UsageStatement {
  period: ReportPeriod;
  totals: UsageTotals;
  /** The grouping asked for, with its groups (days oldest first, others by key). */
  by?: UsageGroupBy;
  groups: UsageGroup[];
  budget: BudgetStanding;
}

function left(limitUsd: number | undefined, spentUsd: number, reservedUsd: number): number | undefined {
  if (limitUsd === undefined) return undefined;
  return nanoToUsd(Math.max(0, usdToNano(limitUsd) - usdToNano(spentUsd) - usdToNano(reservedUsd)));
}

export function budgetStanding(s: SpendSummary): BudgetStanding {
  const out: BudgetStanding = { month: s.month, monthUsd: s.monthUsd, day: s.day, dayUsd: s.dayUsd, reservedUsd: s.reservedUsd };
  if (s.monthlyLimitUsd !== undefined) {
    out.monthlyLimitUsd = s.monthlyLimitUsd;
    out.monthLeftUsd = left(s.monthlyLimitUsd, s.monthUsd, s.reservedUsd);
  }
  if (s.dailyLimitUsd !== undefined) {
    out.dailyLimitUsd = s.dailyLimitUsd;
    out.dayLeftUsd = left(s.dailyLimitUsd, s.dayUsd, s.reservedUsd);
  }
  const headroom = budgetHeadroom(s);
  if (headroom !== undefined) out.leftUsd = headroom;
  return out;
}

export function reportPeriod(period: UsagePeriod): ReportPeriod {
  return {
    kind: period.kind,
    label: period.label,
    ...(period.since !== undefined ? { from: new Date(period.since).toISOString() } : {}),
    ...(period.until !== undefined ? { to: new Date(period.until).toISOString() } : {}),
  };
}

/** The statement `maof usage` prints; undefined when the history cannot be read (the store says why). */
export function usageStatement(history: UsageHistory, period: UsagePeriod, by: UsageGroupBy | undefined, spend: SpendSummary): UsageStatement | undefined {
  const report = history.query({ ...periodQuery(period), ...(by ? { by } : {}) });
  if (!report) return undefined;
  return { period: reportPeriod(period), totals: report.totals, ...(by ? { by } : {}), groups: report.groups, budget: budgetStanding(spend) };
}

/** A month's spend as the dashboard shows it, from the history: the same fields as the ledger's summary of the current month. */
export interface MonthView {
  month: string;
  monthUsd: number;
  byAgent: Record<string, number>;
  byTask: Record<string, number>;
  bySource: Record<string, number>;
  /** Spend per UTC day of the month, days without spend left out. */
  byDay: Record<string, number>;
  requests: number;
  cacheHits: number;
  savedUsd: number;
}

function record(groups: readonly UsageGroup[]): Record<string, number> {
  return Object.fromEntries(groups.map((g) => [g.key, g.costUsd]));
}

/** One month of the history for the dashboard's month picker; undefined when the history cannot be read. */
export function monthView(history: UsageHistory, month: string): MonthView | undefined {
  const period = monthPeriod(month);
  if (!period) return undefined;
  const range = periodQuery(period);
  const groups = (by: UsageGroupBy): UsageGroup[] | undefined => history.query({ ...range, by })?.groups;
  const [byAgent, byTask, bySource, byDay] = [groups('agent'), groups('task'), groups('source'), groups('day')];
  const totals = history.query(range)?.totals;
  if (!totals || !byAgent || !byTask || !bySource || !byDay) return undefined;
  return {
    month,
    monthUsd: totals.costUsd,
    byAgent: record(byAgent),
    byTask: record(byTask),
    bySource: record(bySource),
    byDay: record(byDay),
    requests: totals.requests,
    cacheHits: totals.cacheHits,
    savedUsd: totals.savedUsd,
  };
}

/** The months that have history, newest first (the dashboard's month picker). */
export function historyMonths(history: UsageHistory): string[] {
  const days = history.query({ by: 'day' })?.groups ?? [];
  return [...new Set(days.map((d) => d.key.slice(0, 7)))].sort().reverse();
}
