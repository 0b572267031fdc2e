// Keeps the Getting Started walkthrough current: a model is connected (some agent has a key or
// needs none), inline generation showed a proposal. The chat and the dashboard mark their own steps
// through platform/walkthroughSteps.ts.
import * as vscode from 'vscode';
import { keyStatus } from '../platform/keyNames';
import type { MaofServices } from '../platform/services';
import { WALKTHROUGH_CONTEXT } from '../platform/walkthroughIds';
import { markStepDone, setWalkthroughOwner } from '../platform/walkthroughSteps';

async function anyAgentReady(services: MaofServices): Promise<boolean> {
  for (const agent of services.config().agents) {
    const has = await services.keys.hasKeyFor(agent.id).catch(() => false);
    if (keyStatus(agent, has) !== 'missing') return true;
  }
  return false;
}

/** Keeps `maof.agentReady` current; `onProposal` fires when inline generation shows a proposal. */
export function registerWalkthrough(services: MaofServices, onProposal: vscode.Event<unknown> | undefined): vscode.Disposable {
  setWalkthroughOwner(services.extensionContext.extension.id);
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
