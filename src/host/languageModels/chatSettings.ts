// The settings of VS Code's own Chat that let it work with MAOF, set in the user's settings only
// when the user asks or accepts an offer (each offer made once):
// - `chat.utilityModel` / `chat.utilitySmallModel` = `maof/utility`: the Chat's background work
//   (titles, summaries, commit messages, renames…) goes through MAOF's cheap utility route instead
//   of staying off ("Set BYOK utility models") or falling on a Copilot quota. Undone on request,
//   back to what the user had.
// - `chat.allowAnonymousAccess` = true: the Chat answers through MAOF without a Copilot sign-in.
import * as vscode from 'vscode';
import type { MaofServices } from '../platform/services';
import { COMMANDS, LANGUAGE_MODEL_VENDOR } from '../platform/ids';
import { markStepDone } from '../platform/walkthroughSteps';
import { onDidUseChat, type ChatUse } from './chatUse';
import { isChatQuestion, needsAnonymousAccess, UTILITY_MODEL_ID } from './requestSource';

/** The value VS Code 1.139 expects: `<vendor>/<model id>` (its "vendorAndId" storage format). */
export const MAOF_UTILITY_MODEL = `${LANGUAGE_MODEL_VENDOR}/${UTILITY_MODEL_ID}`;
const UTILITY_KEYS = ['utilityModel', 'utilitySmallModel'] as const;
const ANONYMOUS_KEY = 'allowAnonymousAccess';

const STATE = {
  /** What the user had before MAOF set them, to put back on "stop". */
  previousUtility: 'maof.chatSettings.previousUtilityModels',
  utilityOffered: 'maof.chatSettings.utilityOffered',
  anonymousOffered: 'maof.chatSettings.anonymousOffered',
} as const;

type PreviousValues = Partial<Record<(typeof UTILITY_KEYS)[number], string>>;

function chatConfig(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('chat');
}

/** True when both utility settings already name a MAOF model (in any scope the user set). */
export function usesMaofForUtility(): boolean {
  return UTILITY_KEYS.every((k) => (chatConfig().get<string>(k) ?? '').startsWith(`${LANGUAGE_MODEL_VENDOR}/`));
}

async function useForUtilityModels(services: MaofServices): Promise<void> {
  const cfg = chatConfig();
  const previous: PreviousValues = {};
  for (const key of UTILITY_KEYS) {
    const had = cfg.inspect<string>(key)?.globalValue;
    if (had && had !== MAOF_UTILITY_MODEL) previous[key] = had;
  }
  // A second "use" keeps the first one's record of what the user had.
  if (!usesMaofForUtility()) await services.extensionContext.globalState.update(STATE.previousUtility, previous);
  for (const key of UTILITY_KEYS) await cfg.update(key, MAOF_UTILITY_MODEL, vscode.ConfigurationTarget.Global);
  await services.extensionContext.globalState.update(STATE.utilityOffered, true);
  markStepDone('nativeChat');
  services.logger.info(`VS Code's Chat now sends its utility requests to ${MAOF_UTILITY_MODEL} (chat.utilityModel, chat.utilitySmallModel in the user settings).`);
  void vscode.window
    .showInformationMessage(`MAOF now answers VS Code's Chat utility requests (chat titles, summaries, commit messages) through its "utility" route. "MAOF: Stop Using MAOF for Chat Utility Models" undoes it.`, 'Undo')
    .then((choice) => (choice === 'Undo' ? stopUsingForUtilityModels(services) : undefined));
}

async function stopUsingForUtilityModels(services: MaofServices): Promise<void> {
  const cfg = chatConfig();
  const previous = services.extensionContext.globalState.get<PreviousValues>(STATE.previousUtility) ?? {};
  let changed = 0;
  for (const key of UTILITY_KEYS) {
    // Only a value MAOF set is undone; one the user chose since stays.
    if (cfg.inspect<string>(key)?.globalValue !== MAOF_UTILITY_MODEL) continue;
    await cfg.update(key, previous[key], vscode.ConfigurationTarget.Global);
    changed++;
  }
  await services.extensionContext.globalState.update(STATE.previousUtility, undefined);
  void vscode.window.showInformationMessage(
    changed > 0 ? 'VS Code\'s Chat no longer sends its utility requests to MAOF (the settings are back to what you had).' : 'VS Code\'s Chat was not using MAOF for its utility requests.',
  );
}

async function allowAnonymousChat(services: MaofServices): Promise<void> {
  await chatConfig().update(ANONYMOUS_KEY, true, vscode.ConfigurationTarget.Global);
  await services.extensionContext.globalState.update(STATE.anonymousOffered, true);
  void vscode.window.showInformationMessage('VS Code\'s Chat now answers through MAOF without a GitHub Copilot sign-in ("chat.allowAnonymousAccess" is on in your user settings).');
}

/** The first time the Chat uses a MAOF model for a question: offer the utility models, once. */
async function offerUtilityModels(services: MaofServices, use: ChatUse): Promise<void> {
  if (!isChatQuestion(use)) return;
  const state = services.extensionContext.globalState;
  if (state.get<boolean>(STATE.utilityOffered) || usesMaofForUtility()) return;
  await state.update(STATE.utilityOffered, true);
  const choice = await vscode.window.showInformationMessage(
    'VS Code\'s Chat is using MAOF. Its background work — chat titles, summaries, commit messages, rename suggestions — needs a "utility model" too, or it stays off. Let MAOF answer it through its cheap "utility" route (small models, each the other\'s fallback)? This sets chat.utilityModel and chat.utilitySmallModel in your user settings.',
    'Use MAOF',
    'Not Now',
  );
  if (choice === 'Use MAOF') await useForUtilityModels(services);
}

/** Offered once, when the Chat would ask for a sign-in (requestSource.ts says how that is told). */
async function offerAnonymousAccess(services: MaofServices): Promise<void> {
  const state = services.extensionContext.globalState;
  if (state.get<boolean>(STATE.anonymousOffered)) return;
  const inspected = chatConfig().inspect<boolean>(ANONYMOUS_KEY);
  const settingSet = [inspected?.globalValue, inspected?.workspaceValue, inspected?.workspaceFolderValue].some((v) => v !== undefined);
  const vendors = [...new Set((await vscode.lm.selectChatModels({})).map((m) => m.vendor))];
  if (!needsAnonymousAccess(settingSet, vendors)) return;
  await state.update(STATE.anonymousOffered, true);
  const choice = await vscode.window.showInformationMessage(
    'Without a GitHub Copilot sign-in, VS Code\'s Chat asks you to sign in before MAOF can answer there. Its setting "chat.allowAnonymousAccess" lets the Chat answer through MAOF without one (the Settings search does not find it). Turn it on in your user settings?',
    'Turn On',
    'Not Now',
  );
  if (choice === 'Turn On') await allowAnonymousChat(services);
}

/** After start-up, once the model providers have had time to register. */
const ANONYMOUS_CHECK_DELAY_MS = 20_000;

export function registerChatSettings(services: MaofServices): vscode.Disposable {
  const report = (what: string) => (err: unknown) => services.logger.warn(`Could not ${what}`, err);
  const timer = setTimeout(() => void offerAnonymousAccess(services).catch(report('check VS Code\'s Chat sign-in setting')), ANONYMOUS_CHECK_DELAY_MS);
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.useForUtilityModels, () => useForUtilityModels(services)),
    services.registry.registerCommand(COMMANDS.stopUsingForUtilityModels, () => stopUsingForUtilityModels(services)),
    services.registry.registerCommand(COMMANDS.allowAnonymousChat, () => allowAnonymousChat(services)),
    onDidUseChat((use) => void offerUtilityModels(services, use).catch(report('offer the utility models'))),
    new vscode.Disposable(() => clearTimeout(timer)),
  );
}
