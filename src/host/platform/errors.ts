// Shows a failure to the user: the core's sanitised message plus the action that fixes it (from the
// shared error vocabulary); the technical detail goes to the log only. Cancellation is not an error to shout about.
import * as vscode from 'vscode';
import { toMaofError, type ErrorCode } from '../../core/errors';
import { ACTIONS, errorFix, type ActionId } from '../../shared/errorVocabulary';
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

/** Runs one of the vocabulary's editor actions (a MAOF command, or the settings editor at a query). */
export function runAction(id: ActionId): Thenable<unknown> {
  const action = ACTIONS[id];
  return vscode.commands.executeCommand(action.command, ...(action.args ?? []));
}

/** The error's fix from the shared vocabulary, then Show Log (the detail is there; a budget refusal says it all). */
function actionsFor(code: ErrorCode, showLog: () => void, detail: string | undefined): ErrorAction[] {
  const fix = errorFix(code, detail);
  const out: ErrorAction[] = fix ? [{ title: ACTIONS[fix].label, run: () => runAction(fix) }] : [];
  if (fix !== 'openBudgetSettings') out.push({ title: 'Show Log', run: () => Promise.resolve(showLog()) });
  return out;
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
