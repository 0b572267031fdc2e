// Marks a Getting Started walkthrough step done, from whichever feature saw the user do it (the
// chat answered, the dashboard opened…): a platform helper, so features need not import the
// walkthrough feature.
import * as vscode from 'vscode';
import { WALKTHROUGH_CONTEXT, WALKTHROUGH_ID, type WalkthroughStep } from './walkthroughIds';

/** Full step ids are `<publisher.name>#<walkthrough>#<step>`. */
let stepPrefix = `maof.maof#${WALKTHROUGH_ID}#`;

/**
 * Tells VS Code a step is done. completionEvents alone miss some: VS Code's walkthrough service
 * starts only when first needed, counts a command only if it runs after that, and never counts a
 * context key that was already true when it started (seen in VS Code 1.139) — a user whose key
 * was set before opening the walkthrough would find "Connect a model" unchecked. The workbench's
 * own `welcome.markStepComplete` records the step whether or not the service runs yet; where that
 * command is missing, nothing breaks and the completionEvents still apply. Marking a done step
 * again is a no-op for VS Code, and a step the user unchecked is checked again when they do it again.
 */
export function markStepDone(step: WalkthroughStep): void {
  vscode.commands.executeCommand('welcome.markStepComplete', stepPrefix + step).then(undefined, () => undefined);
}

/** The extension's own id (`publisher.name`), read at start-up. */
export function setWalkthroughOwner(extensionId: string): void {
  stepPrefix = `${extensionId}#${WALKTHROUGH_ID}#`;
}

/** The chat answered: the walkthrough's "Ask the chat" step is done. */
export function markChatAnswered(): void {
  void vscode.commands.executeCommand('setContext', WALKTHROUGH_CONTEXT.chatAnswered, true);
  markStepDone('chat');
}
