// The MAOF dashboard (one webview panel per window, `maof.showDashboard`): spend against budget,
// spend charts, breakers with reset, live retries, latency, cache savings and the last requests.
// The model listens to the core's events from activation on, so the panel shows history when opened;
// updates to an open panel are throttled to at most ten a second.
import * as vscode from 'vscode';
import type { Orchestrator } from '../../core/orchestrator';
import { parseWebviewMessage, type DashboardSnapshot, type HostMessage, type WebviewMessage } from '../../shared/protocol';
import { DashboardModel } from './dashboardModel';
import type { MaofServices } from '../boot/services';
import { UpdateThrottle } from '../platform/updateThrottle';
import { DASHBOARD_VIEW_TYPE } from '../boot/registry';
import { markStepDone } from '../walkthrough/walkthrough';
import { webviewHtml, webviewOptions } from '../webviews/webviewHtml';

const UPDATE_INTERVAL_MS = 100;
/** Breaker cool-downs and the day change show up even without events. */
const REFRESH_MS = 5_000;

/** What the extension API exposes of the dashboard, for integration tests. */
export interface DashboardHandle {
  readonly onDidPostMessage: vscode.Event<HostMessage>;
  /** Handles `raw` exactly as if the dashboard webview had posted it. */
  receive(raw: unknown): Promise<void>;
  /** The snapshot the panel would show now. */
  snapshot(): DashboardSnapshot;
  readonly isOpen: boolean;
  /** The panel is open and its script said it is ready. */
  readonly ready: boolean;
  whenReady(): Promise<void>;
  show(): void;
}

let current: DashboardController | undefined;

export function dashboardHandle(): DashboardHandle | undefined {
  return current;
}

class DashboardController implements vscode.Disposable, DashboardHandle {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly posted = new vscode.EventEmitter<HostMessage>();
  readonly onDidPostMessage = this.posted.event;
  private readonly model: DashboardModel;
  private readonly throttle: UpdateThrottle;
  private unsubscribe: (() => void) | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private attachTimer: ReturnType<typeof setTimeout> | undefined;
  private isReady = false;
  private readyWaiters: Array<() => void> = [];

  constructor(private readonly services: MaofServices) {
    this.model = new DashboardModel(() => services.config().retry.maxAttempts);
    this.throttle = new UpdateThrottle(() => this.postUpdate(), UPDATE_INTERVAL_MS);
    // Listen from (just after) activation so latency and recent requests are there when opened,
    // without making activation itself create the orchestrator.
    this.attachTimer = setTimeout(() => {
      this.attachTimer = undefined;
      this.attach();
    }, 0);
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get ready(): boolean {
    return this.isReady && this.panel !== undefined;
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  show(): void {
    this.attach();
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const extensionUri = this.services.extensionContext.extensionUri;
    this.adopt(
      vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'MAOF Dashboard', vscode.ViewColumn.Active, {
        ...webviewOptions(extensionUri),
        retainContextWhenHidden: false,
      }),
    );
  }

  /**
   * A dashboard VS Code brings back after a window reload: it gets a fresh page, which asks for a
   * snapshot when ready. A second one (two windows' state restored into one) is closed.
   */
  restore(panel: vscode.WebviewPanel): void {
    this.attach();
    if (this.panel) {
      panel.dispose();
      this.panel.reveal();
      return;
    }
    panel.webview.options = webviewOptions(this.services.extensionContext.extensionUri);
    this.adopt(panel);
  }

  private adopt(panel: vscode.WebviewPanel): void {
    const extensionUri = this.services.extensionContext.extensionUri;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'maof.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'dashboard', 'MAOF Dashboard');
    this.panel = panel;
    this.panelSubscriptions.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.closePanel();
      }),
      panel.onDidChangeViewState(() => {
        // Hidden without retained context: the page reloads when shown and says ready again.
        if (!panel.visible) this.isReady = false;
      }),
    );
    this.refreshTimer = setInterval(() => {
      if (this.panel?.visible) this.throttle.request();
    }, REFRESH_MS);
  }

  async receive(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.services.logger.warn(`Dashboard: dropped a malformed message from the webview — ${parsed.error}`);
      return;
    }
    try {
      await this.handle(parsed.message);
    } catch (err) {
      this.services.logger.error(`Dashboard: handling ${parsed.message.type} failed`, err);
    }
  }

  snapshot(): DashboardSnapshot {
    const orchestrator = this.services.orchestrator;
    const config = this.services.config();
    const breakers = config.agents.map((a) => {
      const b = orchestrator.breakers.get(a.id);
      return { agentId: a.id, provider: a.provider, model: a.model, state: b.state, snapshot: b.snapshot() };
    });
    return this.model.snapshot({
      now: Date.now(),
      summary: orchestrator.ledger.summary(),
      breakers,
      breakerResetTimeoutMs: config.breaker.resetTimeoutMs,
      cacheEntries: orchestrator.cache.stats().entries,
    });
  }

  dispose(): void {
    if (this.attachTimer) clearTimeout(this.attachTimer);
    const panel = this.panel;
    this.closePanel();
    panel?.dispose();
    this.throttle.dispose();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.posted.dispose();
    if (current === this) current = undefined;
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'dashboard/ready': {
        this.isReady = true;
        this.model.takeLiveEvents();
        this.postSnapshot();
        // A new page has no feed yet: give it the recent one (the page drops what it already has).
        const recent = this.model.recentLiveEvents();
        if (recent.length > 0) this.post({ type: 'dashboard/event', events: recent });
        for (const resolve of this.readyWaiters.splice(0)) resolve();
        return;
      }
      case 'dashboard/resetBreaker': {
        const orchestrator = this.orchestrator();
        const known = this.services.config().agents.some((a) => a.id === message.agentId) || message.agentId in orchestrator.breakers.snapshots();
        if (!known) {
          this.services.logger.warn(`Dashboard: no circuit breaker for agent "${message.agentId}" to reset.`);
          return;
        }
        orchestrator.breakers.reset(message.agentId);
        this.services.logger.info(`Circuit breaker of "${message.agentId}" reset from the dashboard.`);
        this.postSnapshot();
        return;
      }
      case 'dashboard/resetAll':
        this.orchestrator().breakers.resetAll();
        this.services.logger.info('All circuit breakers reset from the dashboard.');
        this.postSnapshot();
        return;
      case 'dashboard/export':
        await vscode.commands.executeCommand('maof.exportUsage');
        return;
      default:
        this.services.logger.debug(`Dashboard: ignored ${message.type}, which is for another view.`);
    }
  }

  private orchestrator(): Orchestrator {
    this.attach();
    return this.services.orchestrator;
  }

  private attach(): void {
    if (this.unsubscribe) return;
    try {
      this.unsubscribe = this.services.orchestrator.events.on((event) => {
        if (this.model.onEvent(event) && this.panel?.visible) this.throttle.request();
      });
    } catch (err) {
      this.services.logger.warn('Dashboard: the orchestrator is unavailable', err);
    }
  }

  private postUpdate(): void {
    const events = this.model.takeLiveEvents();
    if (!this.panel) return;
    this.postSnapshot();
    if (events.length > 0) this.post({ type: 'dashboard/event', events });
  }

  private postSnapshot(): void {
    if (!this.panel) return;
    try {
      this.post({ type: 'dashboard/snapshot', ...this.snapshot() });
    } catch (err) {
      this.services.logger.warn('Dashboard: could not build the snapshot', err);
    }
  }

  private post(message: HostMessage): void {
    this.posted.fire(message);
    this.panel?.webview.postMessage(message).then(undefined, (err: unknown) => this.services.logger.debug('Dashboard: postMessage failed', err));
  }

  private closePanel(): void {
    for (const d of this.panelSubscriptions) d.dispose();
    this.panelSubscriptions = [];
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.panel = undefined;
    this.isReady = false;
  }
}

export function registerDashboard(services: MaofServices): vscode.Disposable {
  const controller = new DashboardController(services);
  current = controller;
  return vscode.Disposable.from(
    services.registry.registerCommand('maof.showDashboard', () => {
      markStepDone('dashboard');
      return controller.show();
    }),
    services.registry.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: (panel) => {
        controller.restore(panel);
        return Promise.resolve();
      },
    }),
    controller,
  );
}
