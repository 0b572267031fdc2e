// The live MAOF configuration: `maof.*` settings → the core's zod schema (field-by-field salvage) →
// a typed config, re-read whenever a `maof` setting changes. Invalid values are named once in a
// warning with an "Open Settings" action, then the defaults are used for those fields only.
import * as vscode from 'vscode';
import { parseConfig, type ConfigIssue, type MaofConfig } from '../core/config/schema';
import { describeIssue, warningText } from './configMessages';
import type { Logger } from '../core/ports';

const REPORT_QUIET_MS = 400;

export const SETTING_KEYS = ['agents', 'routes', 'tasks', 'retry', 'breaker', 'budget', 'cache', 'context', 'classifierAgent'] as const;

/** Reads the raw `maof.*` values, defaults included (VS Code merges object settings with them). */
export function readRawSettings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration('maof');
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = cfg.get<unknown>(key);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

export class ConfigService implements vscode.Disposable {
  private current: MaofConfig;
  private issues: ConfigIssue[];
  /** Issues already shown, so the same problem is not reported on every settings change. */
  private readonly reported = new Set<string>();
  private readonly changed = new vscode.EventEmitter<MaofConfig>();
  private readonly subscription: vscode.Disposable;
  private reportTimer: ReturnType<typeof setTimeout> | undefined;
  readonly onDidChangeConfig: vscode.Event<MaofConfig> = this.changed.event;

  constructor(private readonly logger: Logger) {
    const parsed = parseConfig(readRawSettings());
    this.current = parsed.config;
    this.issues = parsed.issues;
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('maof')) this.reload();
    });
  }

  get config(): MaofConfig {
    return this.current;
  }

  get configIssues(): readonly ConfigIssue[] {
    return this.issues;
  }

  /** Re-reads the settings, notifies listeners and reports any new problem. */
  reload(): void {
    const parsed = parseConfig(readRawSettings());
    this.current = parsed.config;
    this.issues = parsed.issues;
    this.logger.info(`Settings reloaded: ${parsed.config.agents.length} agents, routes for ${Object.keys(parsed.config.routes).join(', ')}.`);
    this.changed.fire(parsed.config);
    this.scheduleReport();
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
    this.subscription.dispose();
    this.changed.dispose();
  }
}
