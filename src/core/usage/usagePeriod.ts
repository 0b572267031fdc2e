// Which part of the usage history a question covers — a calendar month, everything since a day, or
// all of it — read the same way by `maof usage`, Export Usage and the dashboard. Days and months
// are UTC, as the ledger books them.
import type { UsageQuery } from '../persistence/usageHistory';

export interface UsagePeriod {
  kind: 'month' | 'since' | 'all';
  /** "2026-12", "since 2026-11-15", "all history": for titles and file names. */
  label: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const ALL_HISTORY: UsagePeriod = { kind: 'all', label: 'all history' };

/** The UTC month of `ms`, e.g. "2026-12". */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The month before "2026-12": "2026-11". */
export function previousMonth(month: string): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

/** A calendar month written YYYY-MM, or undefined when it is not one. */
export function monthPeriod(month: string): UsagePeriod | undefined {
  if (!MONTH_RE.test(month)) return undefined;
  const since = Date.parse(`${month}-01T00:00:00Z`);
  const next = new Date(since);
  next.setUTCMonth(next.getUTCMonth() + 1);
  return { kind: 'month', label: month, since, until: next.getTime() };
}

/** Everything from the start of a UTC day written YYYY-MM-DD on, or undefined when it is not a real date. */
export function sincePeriod(day: string): UsagePeriod | undefined {
  if (!DAY_RE.test(day)) return undefined;
  const since = Date.parse(`${day}T00:00:00Z`);
  // Date.parse accepts 2026-02-31 as a March day: the date must read back as written.
  if (Number.isNaN(since) || new Date(since).toISOString().slice(0, 10) !== day) return undefined;
  return { kind: 'since', label: `since ${day}`, since };
}

/** The period as a history query. */
export function periodQuery(period: UsagePeriod): Pick<UsageQuery, 'since' | 'until'> {
  return { ...(period.since !== undefined ? { since: period.since } : {}), ...(period.until !== undefined ? { until: period.until } : {}) };
}

/** "2026-12", "since-2026-11-15", "all": the part of an export's file name that says what it holds. */
export function periodSlug(period: UsagePeriod): string {
  return period.kind === 'all' ? 'all' : period.label.replace(/\s+/g, '-');
}
