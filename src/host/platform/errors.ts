// Shows a failure to the user: the core's sanitised message plus the one action that fixes it;
// the technical detail goes to the log only. Cancellation is not an error to shout about.
import * as vscode from 'vscode';
import { toMaofError, type ErrorCode } from '../../core/errors';
import { scrub } from '../../core/logging/redactingLogger';
import type { Logger } from '../../core/ports';

interface ErrorAction {
  title: string;
  run: () => Thenable<unknown>;
}

export interface ErrorPresenterDeps {
  logger: Logger;
  showLog: () => void;
  knownSecrets: () => readonly string[];
}

const openSettings = (query: string) => (): Thenable<unknown> => vscode.commands.executeCommand('workbench.action.openSettings', query);

function actionsFor(code: ErrorCode, showLog: () => void, detail: string | undefined): ErrorAction[] {
  const log: ErrorAction = { title: 'Show Log', run: () => Promise.resolve(showLog()) };
  // The ledger's refusal while the state file cannot be read (CostLedger.reserveOrWait): the fix is there, not in the limits.
  if (code === 'BUDGET_EXCEEDED' && detail?.startsWith('state file ')) {
    return [{ title: 'Reset Spend History', run: () => vscode.commands.executeCommand('maof.resetSpendHistory') }, log];
  }
  switch (code) {
    case 'AUTH':
      return [{ title: 'Set API Key', run: () => vscode.commands.executeCommand('maof.setApiKey') }, log];
    case 'CIRCUIT_OPEN':
      return [{ title: 'Reset Circuit Breakers', run: () => vscode.commands.executeCommand('maof.resetBreakers') }, log];
    case 'BUDGET_EXCEEDED':
      return [{ title: 'Open Settings', run: openSettings('maof.budget') }];
    case 'CONFIG':
      return [{ title: 'Open Settings', run: openSettings('maof') }, log];
    case 'CONTEXT_TOO_LARGE':
      return [{ title: 'Open Settings', run: openSettings('maof.context') }, log];
    default:
      return [log];
  }
}

/**
 * Belt and braces over the core's own sanitising: whatever reaches a notification has no URL, no
 * host address and no key, even if some future message forgets.
 */
export function sanitizeForUser(message: string, knownSecrets: readonly string[]): string {
  return scrub(message, knownSecrets)
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`)]+/gi, 'the endpoint')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, 'the endpoint')
    .replace(/\blocalhost(?::\d+)?\b/gi, 'the endpoint');
}

export function createErrorPresenter(deps: ErrorPresenterDeps): (err: unknown) => Promise<void> {
  return async (err: unknown) => {
    const error = toMaofError(err);
    if (error.code === 'CANCELLED') {
      vscode.window.setStatusBarMessage('$(circle-slash) MAOF: request cancelled', 4000);
      return;
    }
    deps.logger.warn(`${error.code}${error.agentId ? ` (agent ${error.agentId})` : ''}: ${error.message}${error.detail ? ` — ${error.detail}` : ''}`);
    const text = sanitizeForUser(error.message, deps.knownSecrets());
    const actions = actionsFor(error.code, deps.showLog, error.detail);
    const picked = await vscode.window.showErrorMessage(text.startsWith('MAOF') ? text : `MAOF: ${text}`, ...actions.map((a) => a.title));
    const action = actions.find((a) => a.title === picked);
    if (action) await action.run();
  };
}
