// Every host surface names an error code with the shared vocabulary's label: the dashboard's live
// lines, the chat's status line and attempt log, the progress notification, the selector's note.
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/schema';
import { MaofError } from '../../../src/core/errors';
import { attemptLog, errorInfo, statusLine } from '../../../src/host/chat/chatModel';
import { narrate } from '../../../src/host/platform/progressText';
import { DashboardModel } from '../../../src/host/dashboard/dashboardModel';
import { statusBarView } from '../../../src/host/statusBar/statusBarModel';
import { ERROR_CODES, ERROR_VOCABULARY, WAIT_REASONS, WAIT_VOCABULARY } from '../../../src/shared/errorVocabulary';
import { agentSuffix } from '../../../src/webview/chat/agentNote';

const agents = parseConfig({
  agents: [{ id: 'gw', provider: 'openai', model: 'gpt-4.1', baseUrl: 'http://127.0.0.1:4000/v1', contextWindow: 128000, pricing: { inputPerMTok: 1, outputPerMTok: 1 } }],
}).config.agents;

describe('host surfaces speak the error vocabulary', () => {
  for (const code of ERROR_CODES) {
    const { label } = ERROR_VOCABULARY[code];
    it(`${code} is "${label}" in the dashboard, the chat and the progress notification`, () => {
      const dashboard = new DashboardModel(() => 3);
      dashboard.onEvent({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'a', attempt: 1, waitMs: 1000, code });
      dashboard.onEvent({ type: 'fallback', at: 0, requestId: 'r', from: 'a', to: 'b', reason: code });
      dashboard.onEvent({ type: 'breaker.changed', at: 0, agentId: 'a', from: 'closed', to: 'open', reason: code });
      const [retry, fallback, breaker] = dashboard.takeLiveEvents().map((e) => e.text);
      assert.equal(retry, `a ${label} — retry 2/3 in 1.0 s`);
      assert.equal(fallback, `a ${label} — falling back to b`);
      assert.equal(breaker, `a breaker closed → open (${label})`);

      assert.equal(statusLine({ type: 'fallback', at: 0, requestId: 'r', from: 'a', to: 'b', reason: code }, agents, 3)?.text, `a failed (${label}) — falling back to b`);
      // An open breaker or an answer without text is not a call of its own, so not in the attempt log.
      if (code !== 'CIRCUIT_OPEN' && code !== 'INVALID_OUTPUT') assert.deepEqual(attemptLog([{ agent: 'a', outcome: code, status: 500, elapsedMs: 1200 }]), [`a: ${label} after 1.2 s`]);
      assert.equal(narrate('Asking', { type: 'fallback', at: 0, requestId: 'r', from: 'a', to: 'b', reason: code }, {}), `Asking with b… (a failed: ${label})`);
    });
  }

  it('an open breaker is "breaker open" in the selector, the skip line and the dashboard', () => {
    assert.equal(agentSuffix({ id: 'a', label: 'a', provider: 'openai', model: 'm', breaker: 'open', key: 'set' }), ' — breaker open');
    assert.equal(statusLine({ type: 'agent.skipped', at: 0, requestId: 'r', agentId: 'a', reason: 'CIRCUIT_OPEN' }, agents, 3)?.text, 'Skipping a (breaker open)');
    const dashboard = new DashboardModel(() => 3);
    dashboard.onEvent({ type: 'agent.skipped', at: 0, requestId: 'r', agentId: 'a', reason: 'CIRCUIT_OPEN' });
    assert.equal(dashboard.takeLiveEvents()[0]?.text, 'a skipped (breaker open)');
  });

  it('a wait reads the same in the chat, the dashboard, the progress notification and the status bar', () => {
    const summary = { month: '2026-12', day: '2026-12-01', monthUsd: 0, dayUsd: 0, reservedUsd: 0, requests: 0, cacheHits: 0, savedUsd: 0, byAgent: {}, byTask: {}, bySource: {}, byDay: {} };
    for (const reason of WAIT_REASONS) {
      const words = WAIT_VOCABULARY[reason];
      const event = { type: 'waiting', at: 0, requestId: 'r', agentId: 'a', reason, until: 5_000 } as const;
      assert.match(narrate('Asking', event, {}) ?? '', new RegExp(`waiting 5 s ${words.forWhat}\\)$`));
      const dashboard = new DashboardModel(() => 3);
      dashboard.onEvent(event);
      assert.match(dashboard.takeLiveEvents()[0]?.text ?? '', new RegExp(`^a ${words.state.replace(/[()]/g, '\\$&')} — `));
      assert.equal(dashboard.snapshot({ now: 0, summary, breakers: [], breakerResetTimeoutMs: 1, cacheEntries: 0 }).retries[0]?.code, words.code);
      assert.match(statusBarView(summary, [], { count: 2, reason, seconds: 5 }).tooltip, new RegExp(`2 requests waiting ${words.forWhat} \\(5 s\\)`));
    }
    assert.match(statusLine({ type: 'waiting', at: 0, requestId: 'r', agentId: 'a', reason: 'breaker', until: 5_000 }, agents, 3)?.text ?? '', new RegExp(`^Waiting ${WAIT_VOCABULARY.breaker.forWhat} — trying a again in 5 s$`));
  });

  it('names a server behind a baseUrl in the status line as the error messages do', () => {
    assert.equal(statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'RATE_LIMITED' }, agents, 3)?.text, 'Rate-limited by the OpenAI-compatible server — retrying in 1 s (attempt 2/3)');
    assert.equal(statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'OVERLOADED' }, agents, 3)?.text, 'The OpenAI-compatible server is overloaded — retrying in 1 s (attempt 2/3)');
    assert.equal(statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'UPSTREAM' }, agents, 3)?.text, 'Server error at the OpenAI-compatible server — retrying in 1 s (attempt 2/3)');
    assert.equal(statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gw', attempt: 1, waitMs: 1000, code: 'NETWORK' }, agents, 3)?.text, 'Could not reach the OpenAI-compatible server — retrying in 1 s (attempt 2/3)');
    assert.match(statusLine({ type: 'waiting', at: 0, requestId: 'r', agentId: 'gw', reason: 'rate-limit', until: 3_000 }, agents, 3)?.text ?? '', /^The OpenAI-compatible server asked to slow down/);
    assert.equal(statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 1, waitMs: 1000, code: 'RATE_LIMITED' }, agents, 3)?.text, 'Rate-limited by OpenAI — retrying in 1 s (attempt 2/3)', "OpenAI's own API keeps its name");
  });

  it('the chat is told a fix only when the error’s detail calls for another than its code’s', () => {
    assert.deepEqual(errorInfo(new MaofError('CIRCUIT_OPEN', 'Agent "a" …')), { code: 'CIRCUIT_OPEN', message: 'Agent "a" …' });
    const unreadable = new MaofError('BUDGET_EXCEEDED', 'The MAOF state file cannot be read …', { detail: 'state file unreadable (EACCES): spend history unknown' });
    assert.equal(errorInfo(unreadable).fix, 'resetSpendHistory');
  });
});
