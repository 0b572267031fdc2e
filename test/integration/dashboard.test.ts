// The dashboard panel in a real extension host: it opens once (singleton), its real webview loads
// and asks for a snapshot, the snapshot shows spend, latency, the last requests and breakers, the
// Reset messages reset breakers, malformed messages are refused, and updates are throttled.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DashboardHandle } from '../../src/host/dashboard/dashboardPanel';
import type { MaofTestApi } from '../../src/host/boot/extension';
import type { DashboardHostMessage as HostMessage, DashboardHostMessageOf as HostMessageOf } from '../../src/shared/dashboardProtocol';
import { ProviderSimulator } from '../../src/simulator/providerSimulator';
import { clearKeys, closeAllEditors, maofApi, resetSettings, storeKeys, TEST_KEYS, useSimulatorSettings, waitFor } from './helpers';
import { userTurn } from '../../src/core/types';
import { COMMANDS } from '../../src/host/platform/ids';

function dashboardTabs(): number {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === 'MAOF Dashboard').length;
}

async function openDashboard(api: MaofTestApi): Promise<DashboardHandle> {
  await vscode.commands.executeCommand(COMMANDS.showDashboard);
  const handle = api.dashboard;
  assert.ok(handle, 'the dashboard is registered');
  await Promise.race([handle.whenReady(), new Promise((_, reject) => setTimeout(() => reject(new Error('the dashboard webview never said dashboard/ready')), 30_000))]);
  return handle;
}

function tripBreaker(api: MaofTestApi, agentId: string): void {
  const breaker = api.orchestrator.breakers.get(agentId);
  for (let i = 0; i < 50 && breaker.state !== 'open'; i++) breaker.recordFailure('OVERLOADED');
  assert.equal(breaker.state, 'open', `${agentId}'s breaker opened`);
}

describe('dashboard panel', function () {
  this.timeout(60_000);
  const sim = new ProviderSimulator();
  let api: MaofTestApi;

  before(async () => {
    const address = await sim.start();
    api = await maofApi();
    await useSimulatorSettings(api, address);
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
  });
  afterEach(() => {
    sim.reset();
    api.orchestrator.breakers.resetAll();
  });
  after(async () => {
    await closeAllEditors();
    await clearKeys(api);
    await resetSettings();
    await sim.stop();
  });

  it('opens one panel whose webview loads and receives a snapshot', async () => {
    const posted: HostMessage[] = [];
    await vscode.commands.executeCommand(COMMANDS.showDashboard);
    const handle = api.dashboard!;
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    try {
      await openDashboard(api);
      await waitFor('a snapshot posted to the webview', () => posted.some((m) => m.type === 'dashboard/snapshot'));
    } finally {
      sub.dispose();
    }
    await vscode.commands.executeCommand(COMMANDS.showDashboard);
    assert.equal(dashboardTabs(), 1, 'showing it again reveals the same panel');
    assert.equal(handle.isOpen, true);
  });

  it('shows spend, spend by agent and task, latency and the last request after a run', async () => {
    const handle = await openDashboard(api);
    const before = handle.snapshot();
    const result = await api.orchestrator.run({ messages: [userTurn('Write a function that parses dates')], task: 'code', stream: true, onDelta: () => undefined });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    const s = handle.snapshot();
    assert.ok(s.spend.monthUsd > before.spend.monthUsd, 'month spend grew');
    assert.ok(s.spend.dayUsd > 0);
    assert.ok((s.byAgent.find((b) => b.label === 'sim-gpt')?.usd ?? 0) > 0, 'spend by agent has sim-gpt');
    assert.ok(s.byTask.some((b) => b.label === 'code'));
    assert.equal(s.byDay.length, 30);
    assert.ok((s.byDay[29]?.usd ?? 0) > 0, "today's bar has the spend");
    const last = s.recent[0];
    assert.equal(last?.requestId, result.requestId);
    assert.deepEqual(last && { agentId: last.agentId, task: last.task, ok: last.ok, attempts: last.attempts }, { agentId: 'sim-gpt', task: 'code', ok: true, attempts: 1 });
    assert.ok(s.latency.some((l) => l.agentId === 'sim-gpt' && l.samples >= 1));
  });

  it('shows breaker state per agent, and Reset / Reset all messages reset them', async () => {
    const handle = await openDashboard(api);
    tripBreaker(api, 'sim-gpt');
    tripBreaker(api, 'sim-claude');
    const open = handle.snapshot().breakers.find((b) => b.agentId === 'sim-gpt');
    assert.equal(open?.state, 'open');
    assert.ok((open?.retryInMs ?? 0) > 0, 'an open breaker says when it probes again');
    assert.equal(open?.lastFailureCode, 'OVERLOADED');

    const posted: HostMessage[] = [];
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    try {
      await handle.receive({ type: 'dashboard/resetBreaker', agentId: 'sim-gpt' });
      assert.equal(api.orchestrator.breakers.get('sim-gpt').state, 'closed');
      assert.equal(api.orchestrator.breakers.get('sim-claude').state, 'open', 'only that agent was reset');
      const after = posted.filter((m): m is HostMessageOf<'dashboard/snapshot'> => m.type === 'dashboard/snapshot').pop();
      assert.equal(after?.breakers.find((b) => b.agentId === 'sim-gpt')?.state, 'closed', 'the webview is told at once');

      await handle.receive({ type: 'dashboard/resetAll' });
      assert.equal(api.orchestrator.breakers.get('sim-claude').state, 'closed');
    } finally {
      sub.dispose();
    }
  });

  it('refuses malformed messages and leaves the breakers alone', async () => {
    const handle = await openDashboard(api);
    tripBreaker(api, 'sim-gpt');
    await handle.receive({ type: 'dashboard/resetBreaker', agentId: 7 });
    await handle.receive({ type: 'dashboard/resetBreaker' });
    await handle.receive({ type: 'dashboard/resetBreaker', agentId: 'x'.repeat(201) });
    await handle.receive(null);
    await handle.receive({ type: 'dashboard/resetBreaker', agentId: 'not-an-agent' });
    assert.equal(api.orchestrator.breakers.get('sim-gpt').state, 'open');
    assert.ok(api.recentLogLines().some((l) => l.includes('Dashboard: dropped a malformed message') && l.includes('agentId must be a string')));
    assert.equal(handle.isOpen, true);
  });

  it('shows a live retry while it waits, and throttles updates to ten a second', async () => {
    const handle = await openDashboard(api);
    const snapshots: Array<{ at: number; retries: number }> = [];
    const events: string[] = [];
    const sub = handle.onDidPostMessage((m) => {
      if (m.type === 'dashboard/snapshot') snapshots.push({ at: Date.now(), retries: m.retries.length });
      if (m.type === 'dashboard/event') events.push(...m.events.map((e) => e.text));
    });
    try {
      sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'rate_limit', retryAfterMs: 800 } }]);
      const run = api.orchestrator.run({ messages: [userTurn('Implement binary search')], task: 'code', agentId: 'sim-gpt' });
      await waitFor('a snapshot with the retry waiting', () => snapshots.some((s) => s.retries === 1), 5_000);
      const result = await run;
      assert.ok(result.ok);
      await waitFor('a snapshot after the retry', () => snapshots[snapshots.length - 1]?.retries === 0, 5_000);
      assert.ok(events.some((t) => /sim-gpt paused by its provider \(429\)/.test(t)), JSON.stringify(events));

      // A burst of events makes at most a couple of updates.
      const startCount = snapshots.length;
      const t0 = Date.now();
      for (let i = 0; i < 500; i++) {
        api.orchestrator.events.emit({ type: 'usage', at: Date.now(), requestId: `burst-${i}`, agentId: 'sim-gpt', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0 });
      }
      await new Promise((r) => setTimeout(r, 350));
      const burst = snapshots.slice(startCount);
      const elapsed = Date.now() - t0;
      assert.ok(burst.length >= 1, 'the burst is shown');
      assert.ok(burst.length <= Math.ceil(elapsed / 100) + 1, `${burst.length} snapshots in ${elapsed} ms`);
    } finally {
      sub.dispose();
    }
  });
});
