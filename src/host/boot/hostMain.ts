// The host proper (dist/host.js), loaded by the entry point (extension.ts) just after start-up or
// on the first command, whichever comes first. It reads settings and starts every feature; the
// orchestrator (and with it the state file and, later, the provider SDKs) is created on first use.
// Each feature starts inside its own try/catch so one failure is logged, not fatal.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FileStateStore } from '../../core/persistence/fileStateStore';
import { Orchestrator } from '../../core/orchestrator';
import { registerAdminCommands } from '../commands/adminCommands';
import { registerAgentCommands } from '../commands/agentCommands';
import { chatViewHandle, registerChatView, type ChatViewHandle } from '../chat/chatView';
import { ConfigService } from '../platform/configService';
import { ContextCollector } from '../platform/contextCollector';
import { dashboardHandle, registerDashboard, type DashboardHandle } from '../dashboard/dashboardPanel';
import { createErrorPresenter } from '../platform/errors';
import { registerInlineCommands } from '../inline/inlineGeneration';
import { registerChatModelProvider } from '../languageModels/chatModelProvider';
import { registerParticipant } from '../languageModels/participant';
import { registerChatSettings } from '../languageModels/chatSettings';
import { InlinePreview, type PendingProposal } from '../inline/inlinePreview';
import { createHostLog, logEvent } from '../platform/outputLog';
import { SecretKeys } from '../platform/secretKeys';
import type { StatusSource } from './publicApi';
import { resetSpendHistory, warnStateProblem } from '../dashboard/spendHistory';
import type { HostRegistry } from './registry';
import type { MaofServices } from './services';
import { registerStatusBar } from '../statusBar/statusBar';
import { registerWalkthrough } from '../walkthrough/walkthrough';
import { registerWriteCommands } from '../commands/writeCommands';
import { COMMANDS } from './ids';

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

  const stateFile = path.join(context.globalStorageUri.fsPath, 'state.json');
  let store: FileStateStore | undefined;
  let orchestrator: Orchestrator | undefined;
  const getOrchestrator = (): Orchestrator => {
    if (!orchestrator) {
      store = new FileStateStore(stateFile, logger, { resetHint: 'run "MAOF: Reset Spend History"', restartHint: 'reload the window' });
      orchestrator = new Orchestrator({ config: configService.config, secrets: secretKeys, store, logger });
      context.subscriptions.push({ dispose: orchestrator.events.on((event) => logEvent(logger, event)) });
      logger.debug('Orchestrator created.');
      // Told once per session: the store is created once.
      if (store.problem) warnStateProblem(store.problem, () => log.show());
    }
    return orchestrator;
  };
  context.subscriptions.push(configService.onDidChangeConfig((config) => orchestrator?.updateConfig(config)));
  const flush = async (): Promise<void> => {
    await orchestrator?.flush();
    await store?.flush();
  };

  const collector = new ContextCollector(() => configService.config, logger);
  const services: MaofServices = {
    extensionContext: context,
    registry,
    get orchestrator() {
      return getOrchestrator();
    },
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
    registry.registerCommand(COMMANDS.resetSpendHistory, () => {
      getOrchestrator(); // opens the store, if nothing has yet
      return resetSpendHistory(store);
    }),
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
    get orchestrator() {
      return getOrchestrator();
    },
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
    keyFingerprint: async (agentId) => {
      const agent = configService.config.agents.find((a) => a.id === agentId);
      return agent ? getOrchestrator().keyFingerprint(agent) : undefined;
    },
  };
  const status: StatusSource = {
    summary: () => getOrchestrator().ledger.summary(),
    breakers: () => configService.config.agents.map((a) => ({ agentId: a.id, state: getOrchestrator().breakers.get(a.id).state })),
  };
  return { testApi, status, flush };
}
