// What every host feature gets at activation: the one orchestrator, the live config, the
// logger, key management and context collection. Built once in hostMain.ts.
import type * as vscode from 'vscode';
import type { Orchestrator } from '../../core/orchestrator';
import type { MaofConfig, ConfigIssue } from '../../core/config/schema';
import type { Logger } from '../../core/ports';
import type { ContextItem } from '../../core/context/contextPruner';
import type { HostRegistry } from './registry';

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
  /** Where features register their commands and views (see registry.ts). */
  readonly registry: HostRegistry;
  readonly orchestrator: Orchestrator;
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
