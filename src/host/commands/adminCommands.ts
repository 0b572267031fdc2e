// Housekeeping commands: Set / Clear API Key, Reset Circuit Breakers, Diagnose (the report is
// platform/diagnoseReport.ts, with an opt-in live check) and Export Usage (CSV or JSON ledger).
import * as os from 'node:os';
import * as vscode from 'vscode';
import { LEDGER_MAX_ENTRIES } from '../../core/cost/costLedger';
import { usageCsv } from './usageCsv';
import { openMarkdown } from '../platform/markdownReport';
import { diagnoseReport } from '../platform/diagnoseReport';
import type { KeyTarget, MaofServices } from '../platform/services';
import { COMMANDS } from '../platform/ids';

/** `{provider: 'openai'}` or `{agentId: 'x'}` preselects which key (never the key itself). */
export function keyTargetArgument(args: unknown): KeyTarget | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const { provider, agentId } = args as { provider?: unknown; agentId?: unknown };
  if (provider === 'openai' || provider === 'anthropic') return { kind: 'provider', provider };
  if (typeof agentId === 'string' && agentId) return { kind: 'agent', agentId };
  return undefined;
}

async function resetBreakers(services: MaofServices): Promise<number> {
  const { core } = services;
  const tripped = services
    .config()
    .agents.map((a) => ({ id: a.id, state: core.breakerState(a.id) }))
    .filter((b) => b.state !== 'closed');
  if (tripped.length === 0) {
    void vscode.window.showInformationMessage('MAOF: every circuit breaker is closed — all agents are available.');
    return 0;
  }
  const list = tripped.map((b) => `${b.id} (${b.state})`).join(', ');
  const choice = await vscode.window.showWarningMessage(`Reset the circuit breakers of ${list}?`, { modal: true, detail: 'MAOF will send requests to these agents again right away, even if they are still failing.' }, 'Reset');
  if (choice !== 'Reset') return 0;
  for (const b of tripped) core.resetBreaker(b.id);
  services.logger.info(`Circuit breakers reset by the user: ${list}.`);
  void vscode.window.showInformationMessage(`MAOF: reset ${tripped.length} circuit breaker${tripped.length === 1 ? '' : 's'}.`);
  return tripped.length;
}

// ---- diagnose -----------------------------------------------------------------------------------

async function diagnose(services: MaofServices, args: unknown): Promise<vscode.TextDocument | undefined> {
  const explicit = typeof args === 'object' && args !== null ? (args as { connectivity?: unknown }).connectivity : undefined;
  let live = explicit === true;
  if (explicit === undefined) {
    const choice = await vscode.window.showInformationMessage(
      'MAOF Diagnose: also run a live connectivity check?',
      { modal: true, detail: 'It sends one tiny request (1 output token) per provider with a key, which costs a fraction of a cent.' },
      'Check Connectivity',
      'Report Only',
    );
    if (choice === undefined) return undefined;
    live = choice === 'Check Connectivity';
  }
  return openMarkdown(await diagnoseReport(services, live), 'MAOF Diagnostics');
}

// ---- export -------------------------------------------------------------------------------------

async function exportUsage(services: MaofServices, args: unknown): Promise<vscode.Uri | undefined> {
  const summary = services.core.spend();
  let target: vscode.Uri | undefined;
  const given = typeof args === 'object' && args !== null ? (args as { uri?: unknown }).uri : undefined;
  if (given instanceof vscode.Uri) target = given;
  else if (typeof given === 'string' && given) target = vscode.Uri.file(given);
  if (!target) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    target = await vscode.window.showSaveDialog({
      title: 'MAOF: Export Usage',
      defaultUri: vscode.Uri.joinPath(folder, `maof-usage-${summary.month}.csv`),
      filters: { CSV: ['csv'], JSON: ['json'] },
      saveLabel: 'Export',
    });
  }
  if (!target) return undefined;
  const entries = services.core.spendEntries(LEDGER_MAX_ENTRIES).reverse();
  const json = target.path.toLowerCase().endsWith('.json');
  const body = json ? JSON.stringify({ exportedAt: new Date().toISOString(), summary, entries }, null, 2) + '\n' : usageCsv(entries);
  await vscode.workspace.fs.writeFile(target, Buffer.from(body, 'utf8'));
  const name = target.path.split('/').pop() ?? 'file';
  void vscode.window.showInformationMessage(`MAOF: exported ${entries.length} request${entries.length === 1 ? '' : 's'} to ${name}.`, 'Open').then((choice) => {
    if (choice === 'Open' && target) void vscode.window.showTextDocument(target);
  });
  return target;
}

export function registerAdminCommands(services: MaofServices): vscode.Disposable {
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.setApiKey, (args: unknown) => services.keys.promptAndStore(keyTargetArgument(args))),
    services.registry.registerCommand(COMMANDS.clearApiKey, (args: unknown) => services.keys.clear(keyTargetArgument(args))),
    services.registry.registerCommand(COMMANDS.resetBreakers, () => resetBreakers(services)),
    services.registry.registerCommand(COMMANDS.diagnose, (args: unknown) => diagnose(services, args)),
    services.registry.registerCommand(COMMANDS.exportUsage, (args: unknown) => exportUsage(services, args)),
  );
}
