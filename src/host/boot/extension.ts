// The extension's entry point, kept to a few kilobytes so that activation costs almost nothing:
// it registers placeholders for MAOF's commands and chat view (registry.ts) and schedules the
// host proper (hostMain.ts, built to dist/host.js with zod, the settings schema and every
// feature) to load right after. A command run before then loads the host on the spot.
import * as vscode from 'vscode';
import { recordActivation, recordHostStart } from './activationTiming';
import type * as HostMain from './hostMain';
import { createPublicApi, type MaofPublicApi } from './publicApi';
import { ALL_COMMAND_IDS, LANGUAGE_MODEL_VENDOR, PANELS, PARTICIPANT_ID, VIEWS } from '../platform/ids';
import { LazyRegistry } from './registry';

export type { MaofTestApi } from './hostMain';
export type { MaofPublicApi, MaofStatus } from './publicApi';

let started: HostMain.StartedHost | undefined;

/**
 * Other extensions receive MaofPublicApi: a read-only status, nothing that reaches a key, the
 * context, the orchestrator or the settings. Only the extension's own test run (extensionTestsPath,
 * ExtensionMode.Test) gets the test hooks.
 */
export function activate(context: vscode.ExtensionContext): MaofPublicApi | HostMain.MaofTestApi {
  const activateStartedAt = performance.now();
  let failure: Error | undefined;
  const load = (): HostMain.StartedHost => {
    if (started) return started;
    if (failure !== undefined) throw failure;
    const loadStartedAt = performance.now();
    try {
      // Built as its own file (esbuild.js maps './hostMain' to './host.js'), so that requiring it
      // here, not at activation, is what pays for loading it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const host = require('./hostMain') as typeof HostMain;
      started = host.startHost(context, registry);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      // The host's own log channel never came to be: this one says what went wrong.
      const channel = vscode.window.createOutputChannel('MAOF', { log: true });
      context.subscriptions.push(channel);
      channel.error('MAOF could not start', failure);
      void vscode.window.showErrorMessage('MAOF could not start — run "Developer: Reload Window". If it happens again, the MAOF output channel says why.');
      throw failure;
    }
    recordHostStart(performance.now() - loadStartedAt);
    return started;
  };
  // The manifest is written from the same ids (scripts/manifestContributes.ts; test/unit/host/manifest.test.ts checks it).
  const registry = new LazyRegistry(ALL_COMMAND_IDS, [VIEWS.chat], [PANELS.dashboard], () => void load(), { vendors: [LANGUAGE_MODEL_VENDOR], participants: [PARTICIPANT_ID] });
  context.subscriptions.push(registry);

  // Start-up is finished (onStartupFinished); the host loads on the next turn of the event loop,
  // after activation has returned, unless a command or the chat view needed it sooner.
  const timer = setTimeout(() => {
    try {
      load();
    } catch {
      // already reported
    }
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(timer) });

  recordActivation(context.extension.id, activateStartedAt);
  if (context.extensionMode === vscode.ExtensionMode.Test) return testApi(load);
  return createPublicApi(() => load().status);
}

/** The test hooks, read from the host on use (it loads right after activation). */
function testApi(load: () => HostMain.StartedHost): HostMain.MaofTestApi {
  const api = (): HostMain.MaofTestApi => load().testApi;
  return {
    get services() {
      return api().services;
    },
    get orchestrator() {
      return api().orchestrator;
    },
    get pendingInline() {
      return api().pendingInline;
    },
    recentLogLines: () => api().recentLogLines(),
    get stateFile() {
      return api().stateFile;
    },
    get chatView() {
      return api().chatView;
    },
    get dashboard() {
      return api().dashboard;
    },
    get languageModels() {
      return api().languageModels;
    },
    keyFingerprint: (agentId) => api().keyFingerprint(agentId),
  };
}

/** Makes sure the ledger and breaker state written last are on disk before the host goes away. */
export async function deactivate(): Promise<void> {
  const host = started;
  started = undefined;
  await host?.flush();
}
