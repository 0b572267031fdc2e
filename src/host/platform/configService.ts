// The live MAOF configuration: `maof.*` settings → the core's zod schema (field-by-field salvage) →
// a typed config, re-read whenever a `maof` setting changes. Invalid values are named once in a
// warning with an "Open Settings" action, then the defaults are used for those fields only.
// Where each value comes from matters (settingsScopes.ts): agents a workspace defines or changes are
// marked so they get no key off the official API, and an untrusted workspace's restricted settings
// are ignored — the user is told once, and they apply as soon as the workspace is trusted.
import * as vscode from 'vscode';
import { parseConfig, type ConfigIssue, type MaofConfig } from '../../core/config/schema';
import { markWorkspaceAgents, resolveSettingScopes, RESTRICTED_SETTINGS, type SettingInspection } from '../../core/config/settingsScopes';
import { describeIssue, warningText } from './configMessages';
import type { Logger } from '../../core/ports';

const REPORT_QUIET_MS = 400;

export const SETTING_KEYS = ['agents', 'routes', 'tasks', 'retry', 'breaker', 'budget', 'cache', 'context', 'storage', 'classifierAgent'] as const;
const RESTRICTED = new Set(RESTRICTED_SETTINGS);

/** Whether the workspace is trusted, and when that changes (a seam for tests; VS Code's by default). */
export interface WorkspaceTrust {
  readonly isTrusted: boolean;
  readonly onDidGrant: vscode.Event<void>;
}

const vscodeTrust: WorkspaceTrust = {
  get isTrusted() {
    return vscode.workspace.isTrusted;
  },
  onDidGrant: vscode.workspace.onDidGrantWorkspaceTrust,
};

/** Every `maof.*` setting as `inspect()` reports it: defaults, user, workspace and folder values apart. */
export function inspectSettings(): Record<string, SettingInspection | undefined> {
  const cfg = vscode.workspace.getConfiguration('maof');
  const out: Record<string, SettingInspection | undefined> = {};
  for (const key of SETTING_KEYS) {
    const i = cfg.inspect<unknown>(key);
    out[key] = i && { defaultValue: i.defaultValue, globalValue: i.globalValue, workspaceValue: i.workspaceValue, workspaceFolderValue: i.workspaceFolderValue };
  }
  return out;
}

/**
 * Whether a workspace settings file names a restricted `maof.*` setting. VS Code itself may already
 * hide those values from an untrusted workspace's `inspect()`; the file still says they are there.
 */
async function workspaceFilesSetRestricted(): Promise<boolean> {
  const files = (vscode.workspace.workspaceFolders ?? []).map((f) => vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json'));
  if (vscode.workspace.workspaceFile?.scheme === 'file') files.push(vscode.workspace.workspaceFile);
  const pattern = new RegExp(`"maof\\.(${RESTRICTED_SETTINGS.join('|')})"`);
  for (const file of files) {
    try {
      if (pattern.test(new TextDecoder().decode(await vscode.workspace.fs.readFile(file)))) return true;
    } catch {
      // no settings file there
    }
  }
  return false;
}

export class ConfigService implements vscode.Disposable {
  private current: MaofConfig;
  private issues: ConfigIssue[];
  private ignored: string[] = [];
  /** Issues already shown, so the same problem is not reported on every settings change. */
  private readonly reported = new Set<string>();
  /** The untrusted-workspace notice is shown once per session. */
  private toldUntrusted = false;
  private readonly changed = new vscode.EventEmitter<MaofConfig>();
  private readonly subscriptions: vscode.Disposable[];
  private reportTimer: ReturnType<typeof setTimeout> | undefined;
  readonly onDidChangeConfig: vscode.Event<MaofConfig> = this.changed.event;

  constructor(
    private readonly logger: Logger,
    private readonly trust: WorkspaceTrust = vscodeTrust,
  ) {
    const parsed = this.read();
    this.current = parsed.config;
    this.issues = parsed.issues;
    this.subscriptions = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('maof')) this.reload();
      }),
      trust.onDidGrant(() => {
        this.logger.info('Workspace trusted: its MAOF settings now apply.');
        this.reload();
      }),
    ];
  }

  get config(): MaofConfig {
    return this.current;
  }

  get configIssues(): readonly ConfigIssue[] {
    return this.issues;
  }

  /** Restricted settings whose workspace values are being ignored (untrusted workspace), without the prefix. */
  get ignoredWorkspaceSettings(): readonly string[] {
    return this.ignored;
  }

  /** Re-reads the settings, notifies listeners and reports any new problem. */
  reload(): void {
    const parsed = this.read();
    this.current = parsed.config;
    this.issues = parsed.issues;
    this.logger.info(`Settings reloaded: ${parsed.config.agents.length} agents, routes for ${Object.keys(parsed.config.routes).join(', ')}.`);
    this.changed.fire(parsed.config);
    this.scheduleReport();
  }

  private read(): { config: MaofConfig; issues: ConfigIssue[] } {
    const scoped = resolveSettingScopes({ inspections: inspectSettings(), trusted: this.trust.isTrusted, restricted: RESTRICTED });
    this.ignored = scoped.ignored;
    const parsed = parseConfig(scoped.raw);
    if (scoped.workspaceAgentIds.size > 0) {
      this.logger.info(`Agents from this workspace's settings (keys only on the provider's official API): ${[...scoped.workspaceAgentIds].join(', ')}.`);
    }
    return { config: markWorkspaceAgents(parsed.config, scoped.workspaceAgentIds), issues: parsed.issues };
  }

  /**
   * Once per session, in an untrusted workspace whose settings set restricted MAOF settings: says
   * they are ignored and how to use them. Resolves to whether the notice was shown.
   */
  async reportUntrusted(): Promise<boolean> {
    if (this.toldUntrusted || this.trust.isTrusted) return false;
    const named = this.ignored.length > 0;
    if (!named && !(await workspaceFilesSetRestricted())) return false;
    if (this.toldUntrusted || this.trust.isTrusted) return false;
    this.toldUntrusted = true;
    const which = named ? this.ignored.map((k) => `maof.${k}`).join(', ') : 'agents, routes and limits';
    const message = `MAOF: this workspace is not trusted, so MAOF ignores the ${which} its settings define and uses only your own settings. Trust the workspace to use them.`;
    this.logger.warn(message);
    void vscode.window.showWarningMessage(message, 'Manage Workspace Trust').then((choice) => {
      if (choice === 'Manage Workspace Trust') void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return true;
  }

  /**
   * Reports after settings have been quiet for a moment: several settings written one after the
   * other (settings sync, a script) pass through states that are briefly inconsistent.
   */
  private scheduleReport(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.reportIssues();
      void this.reportUntrusted();
    }, REPORT_QUIET_MS);
  }

  /** Shows one warning naming every setting that was not usable and has not been reported yet. */
  reportIssues(): void {
    const fresh = this.issues.filter((i) => !this.reported.has(`${i.path}|${i.message}`));
    // Forget fixed issues, so the same mistake made again later is reported again.
    const live = new Set(this.issues.map((i) => `${i.path}|${i.message}`));
    for (const key of [...this.reported]) if (!live.has(key)) this.reported.delete(key);
    if (fresh.length === 0) return;
    for (const i of fresh) {
      this.reported.add(`${i.path}|${i.message}`);
      this.logger.warn(`Setting ${describeIssue(i)}`);
    }
    const section = fresh[0].path.split(/[.[]/)[0] ?? '';
    void vscode.window.showWarningMessage(warningText(fresh), 'Open Settings').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', section ? `maof.${section}` : 'maof');
    });
  }

  dispose(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    for (const d of this.subscriptions) d.dispose();
    this.changed.dispose();
  }
}
