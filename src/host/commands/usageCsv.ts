// The ledger as CSV for Export Usage: one row per billed request, RFC 4180 quoting. Pure.
import type { LedgerEntry } from '../../core/cost/costLedger';

function csvField(value: string | number | boolean): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(entries: LedgerEntry[]): string {
  const header = ['time', 'requestId', 'agent', 'model', 'task', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'costUsd', 'cached', 'source'];
  const rows = entries.map((e) =>
    [new Date(e.at).toISOString(), e.requestId, e.agentId, e.model, e.task, e.usage.inputTokens, e.usage.outputTokens, e.usage.cacheReadTokens, e.usage.cacheWriteTokens, e.costUsd, e.cached, e.source ?? ''].map(csvField).join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}
