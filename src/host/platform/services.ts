// What every host feature gets at activation: the one core service, the live config, the
// logger, key management, context collection and where to register commands and views. Built once
// in boot/hostMain.ts; features import this file, never the start-up folder.
import type * as vscode from 'vscode';
import type { MaofCore } from '../../core/maofCore';
import type { MaofConfig, ConfigIssue } from '../../core/config/schema';
import type { Logger } from '../../core/ports';
import type { ContextItem } from '../../core/context/contextPruner';
import type { CommandId, PanelType, ViewId } from './ids';

/** Commands take whatever VS Code or a caller passes (a URI, an args object, nothing) and narrow it. */
export type CommandHandler = (...args: unknown[]) => unknown;

/** How host features register commands and the chat view (MaofServices.registry; implemented by boot/registry.ts). */
export interface HostRegistry {
  registerCommand(id: CommandId, handler: CommandHandler): vscode.Disposable;
  registerWebviewViewProvider(viewId: ViewId, provider: vscode.WebviewViewProvider): vscode.Disposable;
  registerWebviewPanelSerializer(viewType: PanelType, serializer: vscode.WebviewPanelSerializer): vscode.Disposable;
  registerLanguageModelProvider(vendor: string, provider: LanguageModelProviderImpl): vscode.Disposable;
  registerChatParticipant(id: string, handler: vscode.ChatRequestHandler): vscode.Disposable;
  /** Ids of the manifest commands whose real handler the host has registered (not just a placeholder). */
  handledCommands(): CommandId[];
}

/** A language-model provider whose change event the registry forwards. */
export type LanguageModelProviderImpl = vscode.LanguageModelChatProvider<vscode.LanguageModelChatInformation>;

export type KeyTarget = { kind: 'provider'; provider: 'openai' | 'anthropic' } | { kind: 'agent'; agentId: string };

export interface HostKeys {
  /** Prompts with a password input box and stores the trimmed key in SecretStorage. */
  promptAndStore(target?: KeyTarget): Promise<boolean>;
  clear(target?: KeyTarget): Promise<boolean>;
  /** True when some key (agent's own or its provider's) is available for the agent. */
  hasKeyFor(agentId: string): Promise<boolean>;
  /** Fires when a MAOF key is stored or removed (in this window or another). */
  readonly onDidChange: vscode.Event<void>;
}

export interface MaofServices {
  readonly extensionContext: vscode.ExtensionContext;
  /** Where features register their commands and views (boot/registry.ts). */
  readonly registry: HostRegistry;
  /** The core, built at activation: every request, status, spend and breaker question goes here. */
  readonly core: MaofCore;
  readonly logger: Logger;
  readonly keys: HostKeys;
  config(): MaofConfig;
  configIssues(): readonly ConfigIssue[];
  readonly onDidChangeConfig: vscode.Event<MaofConfig>;
  /** Context items from the editor: selection, active file around the cursor, visible editors, tabs. */
  collectContext(options?: { includeSelection?: boolean }): Promise<ContextItem[]>;
  /** Shows a MaofError (or anything thrown) to the user: problem + fix + actions, never a key. */
  showError(err: unknown): Promise<void>;
}
