// MAOF: Export Usage — a chosen period of the whole history (this month, a past month, since a
// day, or all of it) as CSV or JSON, by the file name's extension. The body comes from the core
// (core/usage/usageExport.ts), the same numbers as the dashboard and `maof usage`.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { ALL_HISTORY, monthOf, monthPeriod, periodSlug, previousMonth, sincePeriod, type UsagePeriod } from '../../core/usage/usagePeriod';
import { formatUsd, plural } from '../../shared/format';
import type { MaofServices } from '../platform/services';

/** What a caller (a test, a keybinding) may pass instead of answering the pickers. */
interface ExportArgs {
  uri?: unknown;
  month?: unknown;
  since?: unknown;
  all?: unknown;
}

function argsOf(args: unknown): ExportArgs {
  return typeof args === 'object' && args !== null ? (args) : {};
}

/** The period named in the arguments; a string that is not a month or a day is an error with its fix. */
function periodFromArgs(a: ExportArgs): UsagePeriod | Error | undefined {
  if (typeof a.month === 'string') return monthPeriod(a.month) ?? new Error(`MAOF: Export Usage's month must be written YYYY-MM, e.g. ${monthOf(Date.now())} — "${a.month}" is not one.`);
  if (typeof a.since === 'string') return sincePeriod(a.since) ?? new Error(`MAOF: Export Usage's start day must be written YYYY-MM-DD (UTC), e.g. ${monthOf(Date.now())}-01 — "${a.since}" is not one.`);
  if (a.all === true) return ALL_HISTORY;
  // A caller that names the file asks no questions: this month, as the dashboard shows first.
  if (a.uri !== undefined) return monthPeriod(monthOf(Date.now()));
  return undefined;
}

async function pickPeriod(services: MaofServices): Promise<UsagePeriod | undefined> {
  const thisMonth = services.core.spend().month;
  const months = [...new Set([thisMonth, previousMonth(thisMonth), ...services.core.usageMonths()])].sort().reverse();
  type Item = vscode.QuickPickItem & { period?: UsagePeriod; since?: true };
  const items: Item[] = [
    ...months.map((m) => ({ label: m === thisMonth ? `This month (${m})` : m, period: monthPeriod(m) })),
    { label: 'Since a date…', description: 'everything from a UTC day on', since: true },
    { label: 'All history', description: 'every request MAOF keeps', period: ALL_HISTORY },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'MAOF: Export Usage — which period?', placeHolder: 'Months are UTC, as the budget counts them' });
  if (!picked) return undefined;
  if (!picked.since) return picked.period;
  const day = await vscode.window.showInputBox({
    title: 'MAOF: Export Usage — from which day?',
    prompt: 'Everything from the start of this UTC day on',
    placeHolder: `${previousMonth(thisMonth)}-01`,
    validateInput: (v) => (sincePeriod(v.trim()) ? undefined : 'Write the day as YYYY-MM-DD, e.g. 2026-11-15'),
  });
  return day === undefined ? undefined : sincePeriod(day.trim());
}

async function pickTarget(given: unknown, period: UsagePeriod): Promise<vscode.Uri | undefined> {
  if (given instanceof vscode.Uri) return given;
  if (typeof given === 'string' && given) return vscode.Uri.file(given);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  return vscode.window.showSaveDialog({
    title: 'MAOF: Export Usage',
    defaultUri: vscode.Uri.joinPath(folder, `maof-usage-${periodSlug(period)}.csv`),
    filters: { CSV: ['csv'], JSON: ['json'] },
    saveLabel: 'Export',
  });
}

/** The command; resolves to the file written, or undefined when the user cancelled or nothing could be read. */
export async function exportUsage(services: MaofServices, args: unknown): Promise<vscode.Uri | undefined> {
  const a = argsOf(args);
  const named = periodFromArgs(a);
  if (named instanceof Error) {
    void vscode.window.showErrorMessage(named.message);
    return undefined;
  }
  const period = named ?? (await pickPeriod(services));
  if (!period) return undefined;
  const target = await pickTarget(a.uri, period);
  if (!target) return undefined;
  const out = services.core.exportUsage(period, target.path.toLowerCase().endsWith('.json') ? 'json' : 'csv');
  if (!out) {
    void vscode.window.showErrorMessage('MAOF: the usage history cannot be read, so nothing was exported — see the warning about MAOF\'s spend ledger, or run "MAOF: Reset Spend History".');
    return undefined;
  }
  await vscode.workspace.fs.writeFile(target, Buffer.from(out.body, 'utf8'));
  const name = target.path.split('/').pop() ?? 'file';
  const what = `${plural(out.totals.requests, 'request')}${out.totals.cacheHits > 0 ? ` and ${plural(out.totals.cacheHits, 'cache hit')}` : ''}`;
  void vscode.window.showInformationMessage(`MAOF: exported ${what} (${period.label}, ${formatUsd(out.totals.costUsd)}) to ${name}.`, 'Open').then((choice) => {
    if (choice === 'Open') void vscode.window.showTextDocument(target);
  });
  services.logger.info(`Exported usage of ${period.label}: ${out.rows} rows to ${name}.`);
  return target;
}
