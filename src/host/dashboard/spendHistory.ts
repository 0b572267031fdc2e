// What the user meets when the saved spend and breaker state cannot be read: one warning with the
// fix, and "MAOF: Reset Spend History", which moves the file aside after asking (see fileStateStore.ts).
import * as vscode from 'vscode';
import type { StateProblem } from '../../core/ports';
import type { StateResetResult } from '../../core/persistence/fileStateStore';
import { COMMANDS } from '../platform/ids';

/** The part of FileStateStore these need. */
export interface ResettableStore {
  readonly problem?: StateProblem;
  reset(): Promise<StateResetResult>;
}

/** Shown once, when the store is opened; the same words are in every refusal the ledger makes. */
export function warnStateProblem(problem: StateProblem, showLog: () => void): void {
  const text = problem.message.startsWith('MAOF') ? problem.message : `MAOF: ${problem.message}`;
  void vscode.window.showWarningMessage(text, 'Reset Spend History', 'Show Log').then((choice) => {
    if (choice === 'Reset Spend History') void vscode.commands.executeCommand(COMMANDS.resetSpendHistory);
    else if (choice === 'Show Log') showLog();
  });
}

/** The command: asks, moves the unusable file aside, and says where it went. Resolves to whether it reset. */
export async function resetSpendHistory(store: ResettableStore | undefined): Promise<boolean> {
  const problem = store?.problem;
  if (!store || !problem) {
    void vscode.window.showInformationMessage('MAOF: the spend history is readable — there is nothing to reset.');
    return false;
  }
  const choice = await vscode.window.showWarningMessage(
    'Start the spend history from $0?',
    { modal: true, detail: `MAOF moves ${problem.file} aside (it is kept, renamed) and counts this month's spend from $0 plus what this session spent.` },
    'Reset',
  );
  if (choice !== 'Reset') return false;
  const result = await store.reset();
  if (!result.ok) {
    void vscode.window.showErrorMessage(`MAOF: ${result.message}`);
    return false;
  }
  void vscode.window.showInformationMessage(result.movedTo ? `MAOF: spend history started afresh; the old file was kept as ${result.movedTo}.` : 'MAOF: spend history started afresh.');
  return true;
}
