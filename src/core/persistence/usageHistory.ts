// The whole request history (issue 19 §4), read for the surfaces: `maof usage`, the dashboard's
// month / day / agent / task / source views and Export Usage. Totals are summed in integer
// nano-dollars by SQLite and turned into dollars once, so every surface shows the same cents.
import { nanoToUsd } from '../cost/costCalculator';
import type { UsageRow } from '../ports';
import { usageRowFromSql, type SqliteStore } from './sqliteStore';

export type UsageGroupBy = 'day' | 'agent' | 'task' | 'source';

export interface UsageQuery {
  /** Epoch ms, inclusive; default: the beginning. */
  since?: number;
  /** Epoch ms, exclusive; default: now and after. */
  until?: number;
  /** Totals per UTC day, agent, task or source as well as overall. */
  by?: UsageGroupBy;
}

export interface UsageTotals {
  costUsd: number;
  /** Billed requests (cache hits and carried-over spend are not requests). */
  requests: number;
  cacheHits: number;
  savedUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface UsageGroup extends UsageTotals {
  key: string;
}

export interface UsageReport {
  totals: UsageTotals;
  /** Sorted by key (days oldest first); empty without `by`. */
  groups: UsageGroup[];
}

const COLUMN: Record<UsageGroupBy, string> = { day: 'day', agent: 'agent', task: 'task', source: 'source' };
const SUMS = `SUM(cost_nano) AS cost, SUM(saved_nano) AS saved,
  SUM(CASE WHEN outcome NOT IN ('cache-hit', 'carried-over') THEN 1 ELSE 0 END) AS requests,
  SUM(CASE WHEN outcome = 'cache-hit' THEN 1 ELSE 0 END) AS hits,
  SUM(input_tokens) AS inp, SUM(output_tokens) AS outp, SUM(cache_read_tokens) AS cr, SUM(cache_write_tokens) AS cw`;

function n(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

function totalsOf(r: Record<string, unknown> | undefined): UsageTotals {
  return {
    costUsd: nanoToUsd(n(r?.cost)),
    requests: n(r?.requests),
    cacheHits: n(r?.hits),
    savedUsd: nanoToUsd(n(r?.saved)),
    inputTokens: n(r?.inp),
    outputTokens: n(r?.outp),
    cacheReadTokens: n(r?.cr),
    cacheWriteTokens: n(r?.cw),
  };
}

export class UsageHistory {
  constructor(private readonly store: SqliteStore) {}

  /** Totals over a period, and per day / agent / task / source when `by` is given. Undefined: the database is not usable. */
  query(q: UsageQuery = {}): UsageReport | undefined {
    const since = q.since ?? 0;
    const until = q.until ?? Number.MAX_SAFE_INTEGER;
    return this.store.withDatabase((db) => {
      const totals = totalsOf(db.get(`SELECT ${SUMS} FROM entries WHERE at >= ? AND at < ?`, since, until));
      if (!q.by) return { totals, groups: [] };
      const col = COLUMN[q.by];
      const groups = db
        .all(`SELECT ${col} AS k, ${SUMS} FROM entries WHERE at >= ? AND at < ? GROUP BY ${col} ORDER BY ${col}`, since, until)
        .map((r) => ({ key: typeof r.k === 'string' ? r.k : String(r.k), ...totalsOf(r) }));
      return { totals, groups };
    });
  }

  /** Every entry of a period, oldest first (Export Usage); `limit` caps a very long period. */
  rows(q: Omit<UsageQuery, 'by'> & { limit?: number } = {}): UsageRow[] | undefined {
    const limit = q.limit ?? -1;
    return this.store.withDatabase((db) => db.all('SELECT * FROM entries WHERE at >= ? AND at < ? ORDER BY at, id LIMIT ?', q.since ?? 0, q.until ?? Number.MAX_SAFE_INTEGER, limit).map(usageRowFromSql));
  }
}
