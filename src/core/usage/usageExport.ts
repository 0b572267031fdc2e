// Export Usage: a period of the history as CSV (one row per request, RFC 4180 quoting) or JSON
// (the totals the dashboard and `maof usage` show, per day, agent, task and source, and every
// request). Read from the history, so a period is exported whole, not only the last requests.
import { nanoToUsd } from '../cost/costCalculator';
import type { SpendSummary } from '../cost/costLedger';
import type { UsageRow } from '../ports';
import type { UsageGroup, UsageGroupBy, UsageHistory, UsageTotals } from '../persistence/usageHistory';
import { budgetStanding, reportPeriod, type BudgetStanding, type ReportPeriod } from './usageReport';
import { periodQuery, type UsagePeriod } from './usagePeriod';

export type UsageExportFormat = 'csv' | 'json';

/** One request as exported (money in dollars, from the nano-dollars the ledger keeps). */
export interface ExportedRequest {
  time: string;
  requestId: string;
  agent: string;
  model: string;
  task: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  cached: boolean;
  source: string;
  /** ok | invalid-output | cancelled | cache-hit | carried-over (spend imported without its requests). */
  outcome: string;
  savedUsd: number;
  ttftMs?: number;
  totalMs?: number;
}

export interface UsageExportJson {
  exportedAt: string;
  period: ReportPeriod;
  totals: UsageTotals;
  byDay: UsageGroup[];
  byAgent: UsageGroup[];
  byTask: UsageGroup[];
  bySource: UsageGroup[];
  budget: BudgetStanding;
  requests: ExportedRequest[];
}

export interface UsageExport {
  body: string;
  /** Rows exported (requests, cache hits and carried-over days). */
  rows: number;
  totals: UsageTotals;
}

/** The CSV's columns; the first twelve are those of the exports before the history. */
export const USAGE_CSV_HEADER = ['time', 'requestId', 'agent', 'model', 'task', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'costUsd', 'cached', 'source', 'outcome', 'savedUsd', 'ttftMs', 'totalMs'] as const;

function exported(r: UsageRow): ExportedRequest {
  return {
    time: new Date(r.at).toISOString(),
    requestId: r.requestId,
    agent: r.agentId,
    model: r.model,
    task: r.task,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    costUsd: nanoToUsd(r.costNano),
    cached: r.cached,
    source: r.source,
    outcome: r.outcome,
    savedUsd: nanoToUsd(r.savedNano),
    ...(r.ttftMs !== undefined ? { ttftMs: r.ttftMs } : {}),
    ...(r.totalMs !== undefined ? { totalMs: r.totalMs } : {}),
  };
}

function csvField(value: string | number | boolean | undefined): string {
  const s = value === undefined ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(rows: readonly UsageRow[]): string {
  const lines = rows.map((r) => {
    const e = exported(r);
    return USAGE_CSV_HEADER.map((col) => csvField(e[col])).join(',');
  });
  return [USAGE_CSV_HEADER.join(','), ...lines].join('\n') + '\n';
}

/** Totals summed from the rows themselves (integer nano-dollars), by the history's rules: cache hits and carried-over days are not requests. */
function totalsOf(rows: readonly UsageRow[], keyOf?: (r: UsageRow) => string): Map<string, UsageTotals & { nano: number; savedNano: number }> {
  const out = new Map<string, UsageTotals & { nano: number; savedNano: number }>();
  for (const r of rows) {
    const key = keyOf ? keyOf(r) : '';
    let t = out.get(key);
    if (!t) out.set(key, (t = { costUsd: 0, requests: 0, cacheHits: 0, savedUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, nano: 0, savedNano: 0 }));
    t.nano += r.costNano;
    t.savedNano += r.savedNano;
    if (r.outcome === 'cache-hit') t.cacheHits++;
    else if (r.outcome !== 'carried-over') t.requests++;
    t.inputTokens += r.inputTokens;
    t.outputTokens += r.outputTokens;
    t.cacheReadTokens += r.cacheReadTokens;
    t.cacheWriteTokens += r.cacheWriteTokens;
  }
  for (const t of out.values()) {
    t.costUsd = nanoToUsd(t.nano);
    t.savedUsd = nanoToUsd(t.savedNano);
  }
  return out;
}

function plain({ nano: _nano, savedNano: _saved, ...totals }: UsageTotals & { nano: number; savedNano: number }): UsageTotals {
  return totals;
}

const KEY_OF: Record<UsageGroupBy, (r: UsageRow) => string> = {
  day: (r) => new Date(r.at).toISOString().slice(0, 10),
  agent: (r) => r.agentId,
  task: (r) => r.task,
  source: (r) => r.source,
};

function groups(rows: readonly UsageRow[], by: UsageGroupBy): UsageGroup[] {
  return [...totalsOf(rows, KEY_OF[by])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, t]) => ({ key, ...plain(t) }));
}

/**
 * The export of a period; undefined when the history cannot be read (the store has said why). The
 * rows are read once and every total is summed from them, so a file always adds up, even while
 * another process writes.
 */
export function buildUsageExport(history: UsageHistory, period: UsagePeriod, format: UsageExportFormat, spend: SpendSummary, now: number): UsageExport | undefined {
  const rows = history.rows(periodQuery(period));
  if (!rows) return undefined;
  const all = totalsOf(rows).get('');
  const totals = all ? plain(all) : { costUsd: 0, requests: 0, cacheHits: 0, savedUsd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  if (format === 'csv') return { body: usageCsv(rows), rows: rows.length, totals };
  const json: UsageExportJson = {
    exportedAt: new Date(now).toISOString(),
    period: reportPeriod(period),
    totals,
    byDay: groups(rows, 'day'),
    byAgent: groups(rows, 'agent'),
    byTask: groups(rows, 'task'),
    bySource: groups(rows, 'source'),
    budget: budgetStanding(spend),
    requests: rows.map(exported),
  };
  return { body: `${JSON.stringify(json, null, 2)}\n`, rows: rows.length, totals };
}
