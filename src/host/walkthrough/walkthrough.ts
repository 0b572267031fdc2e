// Marks the Getting Started walkthrough's steps done when the user has done them: a model is
// connected (some agent has a key or needs none), inline generation showed a proposal, the chat
// answered, the dashboard was opened. Each also sets the context key or runs the command that the
// manifest's completionEvents name.
import * as vscode from 'vscode';
import { keyStatus } from '../platform/keyNames';
import type { MaofServices } from '../boot/services';
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

async function anyAgentReady(services: MaofServices): Promise<boolean> {
  for (const agent of services.config().agents) {
    const has = await services.keys.hasKeyFor(agent.id).catch(() => false);
    if (keyStatus(agent, has) !== 'missing') return true;
  }
  return false;
}

/** Keeps `maof.agentReady` current; `onProposal` fires when inline generation shows a proposal. */
export function registerWalkthrough(services: MaofServices, onProposal: vscode.Event<unknown> | undefined): vscode.Disposable {
  stepPrefix = `${services.extensionContext.extension.id}#${WALKTHROUGH_ID}#`;
  let seq = 0;
  const update = async (): Promise<void> => {
    const mine = ++seq;
    const ready = await anyAgentReady(services);
    // A later change of keys or settings was read meanwhile: its answer wins.
    if (mine !== seq) return;
    await vscode.commands.executeCommand('setContext', WALKTHROUGH_CONTEXT.agentReady, ready);
    if (ready) markStepDone('connect');
  };
  const refresh = (): void => {
    update().catch((err: unknown) => services.logger.debug('Walkthrough: could not update the agent context', err));
  };
  refresh();
  const subscriptions = [services.onDidChangeConfig(refresh), services.keys.onDidChange(refresh)];
  if (onProposal) subscriptions.push(onProposal((p) => p && markStepDone('generate')));
  return vscode.Disposable.from(...subscriptions);
}

/** The chat answered: the walkthrough's "Ask the chat" step is done. */
export function markChatAnswered(): void {
  void vscode.commands.executeCommand('setContext', WALKTHROUGH_CONTEXT.chatAnswered, true);
  markStepDone('chat');
}
