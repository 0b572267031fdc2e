// The host proper (dist/host.js), loaded by the entry point (extension.ts) just after start-up or
// on the first command, whichever comes first. It reads settings, builds the one core service
// (orchestrator, state file; the provider SDKs load on the first request) and starts every feature.
// Each feature starts inside its own try/catch so one failure is logged, not fatal.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SqliteStore } from '../../core/persistence/sqliteStore';
import { editorLegacyFiles, importLegacyState } from '../../core/persistence/importLegacy';
import { cliConfigDir, LEDGER_DB_FILE, userStateDir } from '../../core/persistence/stateDir';
import { Orchestrator } from '../../core/orchestrator';
import { createMaofCore } from '../../core/maofCore';
import { UsageHistory } from '../../core/persistence/usageHistory';
import { registerAdminCommands } from '../commands/adminCommands';
import { registerAgentCommands } from '../commands/agentCommands';
import { chatViewHandle, registerChatView, type ChatViewHandle } from '../chat/chatView';
import { ConfigService } from '../platform/configService';
import { ContextCollector } from '../platform/contextCollector';
import { dashboardHandle, registerDashboard, type DashboardHandle } from '../dashboard/dashboardPanel';
import { createErrorPresenter } from '../platform/errors';
import { registerInlineCommands } from '../inline/inlineGeneration';
import { chatModelProviderHandle, registerChatModelProvider, type ChatModelProviderHandle } from '../languageModels/chatModelProvider';
import { registerParticipant } from '../languageModels/participant';
import { registerChatSettings } from '../languageModels/chatSettings';
import { InlinePreview, type PendingProposal } from '../inline/inlinePreview';
import { createHostLog, logEvent } from '../platform/outputLog';
import { SecretKeys } from '../platform/secretKeys';
import type { StatusSource } from './publicApi';
import { resetSpendHistory, warnStateProblem } from '../dashboard/spendHistory';
import type { HostRegistry } from './registry';
import type { MaofServices } from '../platform/services';
import { registerStatusBar } from '../statusBar/statusBar';
import { registerWalkthrough } from '../walkthrough/walkthrough';
import { registerWriteCommands } from '../inline/writeCommands';
import { COMMANDS } from '../platform/ids';

/**
 * The test hooks `activate` returns only in the extension's own test run (ExtensionMode.Test):
 * other extensions get MaofPublicApi (publicApi.ts) instead.
 */
export interface MaofTestApi {
  readonly services: MaofServices;
  readonly orchestrator: Orchestrator;
  /** The inline proposal waiting for Accept / Reject, if any. */
  readonly pendingInline: PendingProposal | undefined;
  /** The last lines written to the MAOF log (already scrubbed of keys). */
  recentLogLines(): string[];
  /** Where ledger and breaker state are kept. */
  readonly stateFile: string;
  /** The side-panel chat (test hooks: posted messages, simulated webview messages). */
  readonly chatView: ChatViewHandle | undefined;
  /** The dashboard panel (test hooks: snapshot, posted messages, simulated webview messages). */
  readonly dashboard: DashboardHandle | undefined;
  /** MAOF's models for VS Code's Chat (test hooks: how often VS Code was told they changed). */
  readonly languageModels: ChatModelProviderHandle | undefined;
  /** A one-way fingerprint of the key an agent's requests would carry (never the key), or undefined. */
  keyFingerprint(agentId: string): Promise<string | undefined>;
}

export interface StartedHost {
  readonly testApi: MaofTestApi;
  /** What the public API reads. */
  readonly status: StatusSource;
  /** Writes the ledger and breaker state held in memory (at deactivation). */
  flush(): Promise<void>;
}

export function startHost(context: vscode.ExtensionContext, registry: HostRegistry): StartedHost {
  const started = Date.now();
  // The logger exists before the keys, yet must scrub every key the keys module reads later.
  const keysRef: { current?: SecretKeys } = {};
  const log = createHostLog(() => keysRef.current?.knownValues() ?? []);
  context.subscriptions.push(log);
  const logger = log.logger;

  const configService = new ConfigService(logger);
  context.subscriptions.push(configService);
  const secretKeys = new SecretKeys(context.secrets, () => configService.config, logger);
  keysRef.current = secretKeys;
  context.subscriptions.push(secretKeys);
  void secretKeys.importDevEnvironmentKeys().catch((err: unknown) => logger.warn('Could not import development keys', err));

  // One ledger per user, not per window or profile: every window, profile and the CLI share it (issue 19).
  // Built now, not on first use: a feature asks the core without a try around reaching it. The
  // provider SDKs still load on the first request (providers/adapterSupport.ts), so this is cheap.
  const stateFile = path.join(userStateDir(process.env, configService.config.storage.dir), LEDGER_DB_FILE);
  const store = new SqliteStore(stateFile, logger, { resetHint: 'run "MAOF: Reset Spend History"', restartHint: 'reload the window', historyMonths: configService.config.storage.historyMonths });
  // The old files: each profile's state.json and the CLI's (MAOF_STATE_DIR or its config directory).
  const cliStateFile = path.join(process.env.MAOF_STATE_DIR ?? cliConfigDir(process.env), 'state.json');
  importLegacyState(store, editorLegacyFiles(context.globalStorageUri.fsPath, cliStateFile), logger);
  context.subscriptions.push({ dispose: () => store.close() });
  const orchestrator = new Orchestrator({ config: configService.config, secrets: secretKeys, store, logger });
  const core = createMaofCore(orchestrator, undefined, new UsageHistory(store));
  context.subscriptions.push({ dispose: core.events.on((event) => logEvent(logger, event)) });
  // Told once per session: the store is created once.
  if (store.problem) warnStateProblem(store.problem, () => log.show());
  context.subscriptions.push(configService.onDidChangeConfig((config) => core.updateConfig(config)));
  const flush = async (): Promise<void> => {
    await core.flush();
    await store.flush();
  };

  const collector = new ContextCollector(() => configService.config, logger);
  const services: MaofServices = {
    extensionContext: context,
    registry,
    core,
    logger,
    keys: secretKeys,
    config: () => configService.config,
    configIssues: () => configService.configIssues,
    onDidChangeConfig: configService.onDidChangeConfig,
    collectContext: (options) => collector.collect(options),
    showError: createErrorPresenter({ logger, showLog: () => log.show(), knownSecrets: () => secretKeys.knownValues() }),
  };

  const start = (name: string, create: () => vscode.Disposable): void => {
    try {
      context.subscriptions.push(create());
    } catch (err) {
      logger.error(`MAOF could not start ${name}; the rest works without it.`, err);
    }
  };
  let preview: InlinePreview | undefined;
  start('inline generation', () => {
    preview = new InlinePreview(logger);
    return vscode.Disposable.from(preview, registerInlineCommands(services, preview));
  });
  start('the Write commands', () => (preview ? registerWriteCommands(services, preview) : new vscode.Disposable(() => undefined)));
  start('the agent commands', () => registerAgentCommands(services));
  start('the admin commands', () => registerAdminCommands(services));
  start('the chat view', () => registerChatView(services));
  start('the dashboard', () => registerDashboard(services));
  start('the status bar', () => registerStatusBar(services));
  start('the language models for VS Code\'s Chat', () => registerChatModelProvider(services));
  start('@maof in VS Code\'s Chat', () => registerParticipant(services));
  start('the settings of VS Code\'s Chat', () => registerChatSettings(services));
  start('Reset Spend History', () =>
    registry.registerCommand(COMMANDS.resetSpendHistory, () => resetSpendHistory(store)),
  );
  start('the walkthrough', () => registerWalkthrough(services, preview?.onDidChange));
  try {
    configService.reportIssues();
    void configService.reportUntrusted().catch((err: unknown) => logger.warn('Could not check the workspace settings', err));
  } catch (err) {
    logger.error('Could not report settings problems', err);
  }

  logger.info(`MAOF started in ${Date.now() - started} ms (${configService.config.agents.length} agents).`);
  const testApi: MaofTestApi = {
    services,
    orchestrator,
    get pendingInline() {
      return preview?.pending;
    },
    recentLogLines: () => log.recentLines(),
    stateFile,
    get chatView() {
      return chatViewHandle();
    },
    get dashboard() {
      return dashboardHandle();
    },
    get languageModels() {
      return chatModelProviderHandle();
    },
    keyFingerprint: async (agentId) => {
      const agent = configService.config.agents.find((a) => a.id === agentId);
      return agent ? core.keyFingerprint(agent) : undefined;
    },
  };
  const status: StatusSource = {
    summary: () => core.spend(),
    breakers: () => configService.config.agents.map((a) => ({ agentId: a.id, state: core.breakerState(a.id) })),
  };
  return { testApi, status, flush };
}
