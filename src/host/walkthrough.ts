// Keeps the context keys that the Getting Started walkthrough's steps complete on: whether an agent
// can be asked (a key set or an agent that needs none), and whether the chat has answered. VS Code
// remembers a completed step, so a key only has to become true once.
import * as vscode from 'vscode';
import { keyStatus } from './keyNames';
import type { MaofServices } from './services';
import { WALKTHROUGH_CONTEXT } from './walkthroughIds';

async function anyAgentReady(services: MaofServices): Promise<boolean> {
  for (const agent of services.config().agents) {
    const has = await services.keys.hasKeyFor(agent.id).catch(() => false);
    if (keyStatus(agent, has) !== 'missing') return true;
  }
  return false;
}

export function registerWalkthrough(services: MaofServices): vscode.Disposable {
  let seq = 0;
  const update = async (): Promise<void> => {
    const mine = ++seq;
    const ready = await anyAgentReady(services);
    // A later change of keys or settings was read meanwhile: its answer wins.
    if (mine === seq) await vscode.commands.executeCommand('setContext', WALKTHROUGH_CONTEXT.agentReady, ready);
  };
  const refresh = (): void => {
    update().catch((err: unknown) => services.logger.debug('Walkthrough: could not update the agent context', err));
  };
  refresh();
  return vscode.Disposable.from(services.onDidChangeConfig(refresh), services.keys.onDidChange(refresh));
}

/** The chat answered: the walkthrough's "Ask the chat" step is done. */
export function markChatAnswered(): void {
  void vscode.commands.executeCommand('setContext', WALKTHROUGH_CONTEXT.chatAnswered, true);
}
