// The status bar's last requests: which agent answered, why, and what it cost, read from the
// attempts trail — including outcomes this code does not name (a deadline's, say).
import * as assert from 'node:assert/strict';
import type { RequestRecord } from '../../../src/core/requestLog';
import { lastRequestItem } from '../../../src/host/statusBar/lastRequestsModel';

const base: RequestRecord = {
  requestId: 'r1',
  at: 1_000_000,
  source: 'VS Code Language Model API',
  task: 'code',
  ok: true,
  agentId: 'claude',
  model: 'claude-sonnet-4-5',
  route: ['gpt', 'claude'],
  pinned: false,
  attempts: [{ agent: 'claude', outcome: 'ok' }],
  costUsd: 0.0123,
  cached: false,
  durationMs: 900,
};

describe('the last requests list (status bar)', () => {
  it('a fallback: the agent, the cost, who asked, why and the attempts', () => {
    const item = lastRequestItem({ ...base, attempts: [{ agent: 'gpt', outcome: 'RATE_LIMITED', status: 429 }, { agent: 'gpt', outcome: 'RATE_LIMITED', status: 429 }, { agent: 'claude', outcome: 'ok' }] }, 1_012_000);
    assert.equal(item.label, '$(check) claude · $0.01');
    assert.equal(item.description, 'VS Code Language Model API · code · 12 s ago');
    assert.equal(item.detail, 'Fallback #1 of the code route, after gpt: rate-limited (429) ×2');
    assert.equal(item.explanation, [
      'claude (claude-sonnet-4-5) answered a code request from VS Code Language Model API, 12 s ago.',
      'Why: Fallback #1 of the code route, after gpt: rate-limited (429) ×2.',
      'Route: gpt → claude.',
      'Attempts: gpt: rate-limited (429) ×2 → claude: answered.',
      'Cost: $0.01 · 0.9 s.',
    ].join('\n'));
  });

  it('the primary after a retry, and an outcome it has no words for (a deadline) read generically', () => {
    const item = lastRequestItem({ ...base, agentId: 'gpt', attempts: [{ agent: 'gpt', outcome: 'stalled' as never }, { agent: 'gpt', outcome: 'ok' }] }, 1_000_000 + 5 * 60_000);
    assert.equal(item.description, 'VS Code Language Model API · code · 5 min ago');
    assert.equal(item.detail, "The code route's primary, after 1 failed attempt (gpt: stalled)");
    assert.match(item.explanation, /Attempts: gpt: stalled → gpt: answered\./);
  });

  it('a breaker skip and a failure', () => {
    const item = lastRequestItem({ ...base, ok: false, agentId: 'claude', errorCode: 'OVERLOADED', attempts: [{ agent: 'gpt', outcome: 'CIRCUIT_OPEN' }, { agent: 'claude', outcome: 'OVERLOADED', status: 529 }] }, 1_000_000);
    assert.equal(item.label, '$(error) no answer · $0.01');
    assert.equal(item.detail, 'No agent answered (overloaded) after gpt: breaker open → claude: overloaded (529)');
  });
});
