// API keys live in VS Code's SecretStorage only. This maps the core's key names (`provider:openai`,
// `agent:<id>`, `secret:<name>`) to storage names, caches what was read (kept in sync across
// windows by `secrets.onDidChange`) and runs the Set / Clear API Key interactions.
import * as vscode from 'vscode';
import { ownKeyAllowed, providerKeyAllowed, type AgentConfig, type MaofConfig } from '../../core/config/schema';
import type { Logger, SecretSource } from '../../core/ports';
import { keyProblem, MAX_KEY_LENGTH, SECRET_PREFIX, storageNameFor } from './keyNames';
import type { HostKeys, KeyTarget } from './services';

export type ProviderId = 'openai' | 'anthropic';

const PROVIDER_LABEL: Record<ProviderId, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };
const PROVIDERS: ProviderId[] = ['openai', 'anthropic'];

interface TargetPick extends vscode.QuickPickItem {
  target: KeyTarget;
}

export class SecretKeys implements HostKeys, SecretSource, vscode.Disposable {
  private readonly cache = new Map<string, string | undefined>();
  /** Every key value seen this session, so the logger can scrub them. Never persisted. */
  private readonly known = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange: vscode.Event<void> = this.changed.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly config: () => MaofConfig,
    private readonly logger: Logger,
  ) {
    this.subscription = secrets.onDidChange((e) => {
      if (!e.key.startsWith(SECRET_PREFIX)) return;
      this.cache.delete(e.key);
      this.changed.fire();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  /** SecretSource for the core. */
  async get(coreName: string): Promise<string | undefined> {
    const name = storageNameFor(coreName);
    return name ? this.read(name) : undefined;
  }

  /**
   * `npm start -- --real` only: stores OPENAI_API_KEY / ANTHROPIC_API_KEY from the editor's
   * environment into SecretStorage when no key is set yet. Gated on MAOF_DEV_IMPORT_ENV_KEYS=1,
   * which only the development launcher sets; a user's editor never imports keys on its own.
   */
  async importDevEnvironmentKeys(env: NodeJS.ProcessEnv = process.env): Promise<number> {
    if (env.MAOF_DEV_IMPORT_ENV_KEYS !== '1') return 0;
    let imported = 0;
    for (const [provider, variable] of [['openai', 'OPENAI_API_KEY'], ['anthropic', 'ANTHROPIC_API_KEY']] as const) {
      const value = env[variable]?.trim();
      if (!value || /\s/.test(value) || value.length > MAX_KEY_LENGTH) continue;
      const name = `${SECRET_PREFIX}${provider}`;
      if (await this.read(name)) continue;
      await this.secrets.store(name, value);
      this.known.add(value);
      this.cache.delete(name);
      imported++;
    }
    if (imported > 0) this.logger.info(`Development launch: stored ${imported} provider key(s) from the environment in SecretStorage.`);
    return imported;
  }

  /** Key values read or stored this session (for log scrubbing only). */
  knownValues(): readonly string[] {
    return [...this.known];
  }

  /** The storage name a target's key is kept under (an agent with `apiKeySecret` uses that name). */
  storageName(target: KeyTarget): string {
    if (target.kind === 'provider') return `${SECRET_PREFIX}${target.provider}`;
    const agent = this.agent(target.agentId);
    return agent?.apiKeySecret ? `${SECRET_PREFIX}custom.${agent.apiKeySecret}` : `${SECRET_PREFIX}agent.${target.agentId}`;
  }

  /** Whether the orchestrator would send this agent a key (same rules: ownKeyAllowed, providerKeyAllowed). */
  async hasKeyFor(agentId: string): Promise<boolean> {
    const agent = this.agent(agentId);
    if (!agent || !ownKeyAllowed(agent)) return false;
    const own = await this.read(this.storageName({ kind: 'agent', agentId }));
    if (own?.trim()) return true;
    // The provider-wide key is never sent to a hosted gateway (see providerKeyAllowed): it does not count.
    if (!providerKeyAllowed(agent)) return false;
    const shared = await this.read(`${SECRET_PREFIX}${agent.provider}`);
    return Boolean(shared?.trim());
  }

  async promptAndStore(target?: KeyTarget): Promise<boolean> {
    const chosen = target ?? (await this.pickTarget('Set API Key — which key?', false));
    if (!chosen) return false;
    const label = this.targetLabel(chosen);
    const placeHolder = this.providerOf(chosen) === 'anthropic' ? 'sk-ant-…' : 'sk-…';
    const value = await vscode.window.showInputBox({
      title: `MAOF: ${label} API key`,
      prompt: "Stored in VS Code's secret storage — never in settings, logs or messages.",
      placeHolder,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => keyProblem(v),
    });
    if (value === undefined) return false;
    const key = value.trim();
    if (key === '') {
      void vscode.window.showInformationMessage('MAOF: no key entered — nothing was changed.');
      return false;
    }
    const problem = keyProblem(key);
    if (problem) {
      void vscode.window.showWarningMessage(`MAOF: ${problem} Nothing was changed.`);
      return false;
    }
    const name = this.storageName(chosen);
    this.known.add(key);
    await this.secrets.store(name, key);
    this.cache.set(name, key);
    this.logger.info(`API key for ${label} saved in secret storage.`);
    void vscode.window.showInformationMessage(`MAOF: ${label} API key saved in VS Code's secret storage.`);
    this.changed.fire();
    return true;
  }

  async clear(target?: KeyTarget): Promise<boolean> {
    const chosen = target ?? (await this.pickTarget('Clear API Key — which key?', true));
    if (!chosen) return false;
    const label = this.targetLabel(chosen);
    const name = this.storageName(chosen);
    if (!(await this.read(name))) {
      void vscode.window.showInformationMessage(`MAOF: no ${label} API key is stored.`);
      return false;
    }
    await this.secrets.delete(name);
    this.cache.set(name, undefined);
    this.logger.info(`API key for ${label} removed from secret storage.`);
    void vscode.window.showInformationMessage(`MAOF: ${label} API key removed.`);
    this.changed.fire();
    return true;
  }

  private async read(name: string): Promise<string | undefined> {
    if (this.cache.has(name)) return this.cache.get(name);
    let value: string | undefined;
    try {
      value = await this.secrets.get(name);
    } catch (err) {
      // A broken keychain must not break requests: the core reports a missing key instead.
      this.logger.warn(`Could not read ${name} from secret storage`, err);
      return undefined;
    }
    if (value) this.known.add(value);
    this.cache.set(name, value);
    return value;
  }

  private agent(agentId: string): AgentConfig | undefined {
    return this.config().agents.find((a) => a.id === agentId);
  }

  private providerOf(target: KeyTarget): ProviderId | undefined {
    return target.kind === 'provider' ? target.provider : this.agent(target.agentId)?.provider;
  }

  private targetLabel(target: KeyTarget): string {
    return target.kind === 'provider' ? PROVIDER_LABEL[target.provider] : `agent "${target.agentId}"`;
  }

  private async pickTarget(title: string, onlyStored: boolean): Promise<KeyTarget | undefined> {
    const items: TargetPick[] = [];
    for (const provider of PROVIDERS) {
      const stored = Boolean(await this.read(`${SECRET_PREFIX}${provider}`));
      if (onlyStored && !stored) continue;
      items.push({
        label: `${PROVIDER_LABEL[provider]} (all ${PROVIDER_LABEL[provider]} agents)`,
        description: stored ? '$(check) key set' : 'no key set',
        target: { kind: 'provider', provider },
      });
    }
    const agents = this.config().agents;
    const agentItems: TargetPick[] = [];
    for (const agent of agents) {
      const target: KeyTarget = { kind: 'agent', agentId: agent.id };
      const stored = Boolean(await this.read(this.storageName(target)));
      if (onlyStored && !stored) continue;
      agentItems.push({
        label: `$(hubot) ${agent.id}`,
        description: `${agent.provider} · ${agent.model}${agent.apiKeySecret ? ` · key "${agent.apiKeySecret}"` : ''}${stored ? ' · $(check) own key set' : ''}`,
        target,
      });
    }
    if (agentItems.length > 0) {
      items.push({ label: 'One agent only (used instead of its provider key)', kind: vscode.QuickPickItemKind.Separator, target: { kind: 'agent', agentId: '' } }, ...agentItems);
    }
    if (items.length === 0) {
      void vscode.window.showInformationMessage('MAOF: no API keys are stored.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(items, { title: `MAOF: ${title}`, placeHolder: 'Provider keys serve every agent of that provider', matchOnDescription: true, ignoreFocusOut: true });
    return picked?.target;
  }
}
