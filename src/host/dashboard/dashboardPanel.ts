// The MAOF dashboard (one webview panel per window, `maof.showDashboard`): spend against budget,
// spend charts, breakers with reset, live retries, latency, cache savings and the last requests.
// The model listens to the core's events from activation on, so the panel shows history when opened;
// updates to an open panel are throttled to at most ten a second.
import * as vscode from 'vscode';
import { parseDashboardMessage, type DashboardHostMessage, type DashboardSnapshot, type DashboardWebviewMessage } from '../../shared/dashboardProtocol';
import { DashboardModel } from './dashboardModel';
import type { MaofServices } from '../platform/services';
import { UpdateThrottle } from '../platform/updateThrottle';
import { COMMANDS, PANELS } from '../platform/ids';
import { markStepDone } from '../platform/walkthroughSteps';
import { webviewHtml, webviewOptions } from '../webviews/webviewHtml';
import { panelSurface, WebviewHost } from '../webviews/webviewHost';

const UPDATE_INTERVAL_MS = 100;
/** Breaker cool-downs and the day change show up even without events. */
const REFRESH_MS = 5_000;

/** What the extension API exposes of the dashboard, for integration tests. */
export interface DashboardHandle {
  readonly onDidPostMessage: vscode.Event<DashboardHostMessage>;
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

class DashboardController extends WebviewHost<DashboardHostMessage, DashboardWebviewMessage> implements DashboardHandle {
  private panel: vscode.WebviewPanel | undefined;
  private readonly model: DashboardModel;
  private readonly throttle: UpdateThrottle;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly services: MaofServices) {
    super({ name: 'Dashboard', readyType: 'dashboard/ready', parse: parseDashboardMessage, logger: services.logger });
    this.model = new DashboardModel(() => services.config().retry.maxAttempts);
    this.throttle = new UpdateThrottle(() => this.postUpdate(), UPDATE_INTERVAL_MS);
    // Listen from activation on, so latency and recent requests are there when it is opened.
    this.unsubscribe = services.core.events.on((event) => {
      if (this.model.onEvent(event) && this.panel?.visible) this.throttle.request();
    });
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const extensionUri = this.services.extensionContext.extensionUri;
    this.adopt(
      vscode.window.createWebviewPanel(PANELS.dashboard, 'MAOF Dashboard', vscode.ViewColumn.Active, {
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
    this.attach(panelSurface(panel));
    this.panel = panel;
    this.everyWhileAttached(REFRESH_MS, () => {
      if (this.panel?.visible) this.throttle.request();
    });
  }

  snapshot(): DashboardSnapshot {
    const { core } = this.services;
    const config = this.services.config();
    const breakers = config.agents.map((a) => {
      const snapshot = core.breakerSnapshot(a.id);
      return { agentId: a.id, provider: a.provider, model: a.model, state: snapshot.state, snapshot };
    });
    return this.model.snapshot({
      now: Date.now(),
      summary: core.spend(),
      breakers,
      breakerResetTimeoutMs: config.breaker.resetTimeoutMs,
      cacheEntries: core.cacheEntries(),
    });
  }

  override dispose(): void {
    const panel = this.panel;
    super.dispose();
    panel?.dispose();
    this.throttle.dispose();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (current === this) current = undefined;
  }

  protected override onReady(): void {
    this.model.takeLiveEvents();
    this.postSnapshot();
    // A new page has no feed yet: give it the recent one (the page drops what it already has).
    const recent = this.model.recentLiveEvents();
    if (recent.length > 0) this.post({ type: 'dashboard/event', events: recent });
  }

  protected override onDetached(): void {
    this.panel = undefined;
  }

  protected override async onMessage(message: DashboardWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'dashboard/resetBreaker': {
        if (!this.services.core.hasBreaker(message.agentId)) {
          this.services.logger.warn(`Dashboard: no circuit breaker for agent "${message.agentId}" to reset.`);
          return;
        }
        this.services.core.resetBreaker(message.agentId);
        this.services.logger.info(`Circuit breaker of "${message.agentId}" reset from the dashboard.`);
        this.postSnapshot();
        return;
      }
      case 'dashboard/resetAll':
        this.services.core.resetAllBreakers();
        this.services.logger.info('All circuit breakers reset from the dashboard.');
        this.postSnapshot();
        return;
      case 'dashboard/export':
        await vscode.commands.executeCommand(COMMANDS.exportUsage);
        return;
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
    this.post({ type: 'dashboard/snapshot', ...this.snapshot() });
  }

}

export function registerDashboard(services: MaofServices): vscode.Disposable {
  const controller = new DashboardController(services);
  current = controller;
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.showDashboard, () => {
      markStepDone('dashboard');
      return controller.show();
    }),
    services.registry.registerWebviewPanelSerializer(PANELS.dashboard, {
      deserializeWebviewPanel: (panel) => {
        controller.restore(panel);
        return Promise.resolve();
      },
    }),
    controller,
  );
}
