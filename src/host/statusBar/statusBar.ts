// The status bar item: the month's spend against the budget, a warning background while a circuit
// breaker is open or a budget alert fired this period, and a click that shows the last requests —
// which agent answered each, why and what it cost — with the dashboard one item away.
import * as vscode from 'vscode';
import type { WaitReason } from '../../core/events';
import { statusBarView, type Waiting } from './statusBarModel';
import { lastRequestItems } from './lastRequestsModel';
import type { MaofServices } from '../platform/services';
import { UpdateThrottle } from '../platform/updateThrottle';
import { COMMANDS } from '../platform/ids';

const UPDATE_INTERVAL_MS = 250;
/** Breakers cool down, days change and other processes (the CLI, another window) spend without an event here; summary() is cached until the ledger changes. */
const REFRESH_MS = 5_000;

export function registerStatusBar(services: MaofServices): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('maof.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'MAOF Spend';
  item.command = { title: 'Show Last Requests', command: COMMANDS.showLastRequests };
  item.text = '$(pulse) MAOF';
  item.tooltip = 'MAOF — click for the last requests and the dashboard';
  item.show();

  /** Requests waiting instead of failing, by request id: shown as a countdown while any remain. */
  const waits = new Map<string, { reason: WaitReason; until: number }>();
  let ticker: ReturnType<typeof setInterval> | undefined;
  const waiting = (): Waiting | undefined => {
    let soonest: { reason: WaitReason; until: number } | undefined;
    for (const w of waits.values()) if (!soonest || w.until < soonest.until) soonest = w;
    return soonest ? { count: waits.size, reason: soonest.reason, seconds: Math.max(0, Math.ceil((soonest.until - Date.now()) / 1000)) } : undefined;
  };
  const update = (): void => {
    const { core } = services;
    const breakers = services.config().agents.map((a) => ({ agentId: a.id, state: core.breakerState(a.id) }));
    const view = statusBarView(core.spend(), breakers, waiting());
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.accessibilityInformation = { label: view.ariaLabel, role: 'button' };
    item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.color = view.warning ? new vscode.ThemeColor('statusBarItem.warningForeground') : undefined;
  };
  const throttle = new UpdateThrottle(update, UPDATE_INTERVAL_MS);

  update();
  const unsubscribe = services.core.events.on((event) => {
    if (event.type === 'waiting') {
      waits.set(event.requestId, { reason: event.reason, until: event.until });
      ticker ??= setInterval(() => throttle.request(), 1_000);
      throttle.request();
      return;
    }
    if ((event.type === 'attempt' || event.type === 'request.finished') && waits.delete(event.requestId)) {
      if (waits.size === 0 && ticker) {
        clearInterval(ticker);
        ticker = undefined;
      }
      throttle.request();
    }
    switch (event.type) {
      case 'usage':
      case 'cache.hit':
      case 'breaker.changed':
      case 'budget.alert':
      case 'request.finished':
        throttle.request();
    }
  });
  const refresh = setInterval(() => throttle.request(), REFRESH_MS);

  return vscode.Disposable.from(
    item,
    services.registry.registerCommand(COMMANDS.showLastRequests, () => showLastRequests(services)),
    services.onDidChangeConfig(() => throttle.request()),
    new vscode.Disposable(() => {
      clearInterval(refresh);
      if (ticker) clearInterval(ticker);
      throttle.dispose();
      unsubscribe();
    }),
  );
}

type LastRequestPick = vscode.QuickPickItem & { action?: 'dashboard'; explanation?: string };

/** The last requests, newest first, under "Open Dashboard". Resolves to what was picked. */
async function showLastRequests(services: MaofServices): Promise<LastRequestPick | undefined> {
  const requests = lastRequestItems(services.core.recentRequests(), Date.now());
  const items: LastRequestPick[] = [
    { label: '$(dashboard) Open Dashboard', description: 'spend, breakers, latency, live retries', action: 'dashboard' },
    { label: 'Last requests', kind: vscode.QuickPickItemKind.Separator },
    ...(requests.length > 0 ? requests.map(({ requestId: _id, ...item }) => item) : [{ label: 'No requests yet in this window', description: 'VS Code\'s Chat, other extensions and MAOF\'s own requests show here' }]),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'MAOF — last requests: which agent answered, why, and what it cost', matchOnDescription: true, matchOnDetail: true });
  if (picked?.action === 'dashboard') await vscode.commands.executeCommand(COMMANDS.showDashboard);
  else if (picked?.explanation) void vscode.window.showInformationMessage(`MAOF: ${picked.label.replace(/^\$\([\w-]+\) /, '')}`, { modal: true, detail: picked.explanation });
  return picked;
}
