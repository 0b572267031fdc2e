import * as assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/schema';
import { MaofError } from '../../../src/core/errors';
import type { RunSuccess } from '../../../src/core/orchestrator';
import { formatCost } from '../../../src/shared/format';
import { attemptCounts, boundHistory, errorInfo, restoreChat, resultMeta, statusLine } from '../../../src/host/chat/chatModel';
import type { ChatHistoryMessage } from '../../../src/shared/chatProtocol';

const agents = parseConfig({}).config.agents;

function success(over: Partial<RunSuccess> = {}): RunSuccess {
  return {
    ok: true,
    requestId: 'r1',
    task: 'code',
    agentId: 'claude-sonnet',
    model: 'claude-sonnet-4-5',
    text: 'hi',
    cached: false,
    attempts: [{ agent: 'claude-sonnet', outcome: 'ok' }],
    durationMs: 1234,
    costUsd: 0.0042,
    usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
    ...over,
  };
}

describe('chat model', () => {
  describe('meta of an answer', () => {
    it('counts retries on one agent and fallbacks across agents', () => {
      const counts = attemptCounts([
        { agent: 'gpt-4.1', outcome: 'AUTH' }, // no key: skipped, not a call, but the route moved on
        { agent: 'claude-sonnet', outcome: 'RATE_LIMITED', status: 429, waitMs: 1000 },
        { agent: 'claude-sonnet', outcome: 'OVERLOADED', status: 529 },
        { agent: 'claude-sonnet', outcome: 'TIMEOUT' },
        { agent: 'claude-haiku', outcome: 'ok' },
      ]);
      assert.deepEqual(counts, { attempts: 4, retries: 2, fallbacks: 2 });
    });

    it('lists each call with its real elapsed time when there was more than one', () => {
      const meta = resultMeta(
        success({
          attempts: [
            { agent: 'gw', outcome: 'CONFIG' }, // refused for its price: not a call
            { agent: 'claude-sonnet', outcome: 'UPSTREAM', status: 502, waitMs: 500, elapsedMs: 31_000 },
            { agent: 'claude-sonnet', outcome: 'ok', elapsedMs: 2_400 },
          ],
        }),
      );
      assert.equal(meta.attempts, 2);
      assert.deepEqual(meta.attemptLog, ['claude-sonnet: server error after 31 s', 'claude-sonnet: answered after 2.4 s']);
      assert.equal(resultMeta(success()).attemptLog, undefined, 'one call: the duration chip already says it');
    });

    it('does not count breaker skips and cache hits as attempts', () => {
      assert.deepEqual(attemptCounts([{ agent: 'a', outcome: 'CIRCUIT_OPEN' }, { agent: 'b', outcome: 'cached' }]), { attempts: 0, retries: 0, fallbacks: 1 });
      assert.deepEqual(attemptCounts([{ agent: 'a', outcome: 'AUTH', status: 401 }]), { attempts: 1, retries: 0, fallbacks: 0 });
    });

    it('carries agent, model, cost, duration, cache and pruning', () => {
      const meta = resultMeta(
        success({
          cached: true,
          pruned: {
            kept: [],
            dropped: [{ id: 'd1', label: 'big.ts', kind: 'openTab', reason: 'budget', tokens: 9 }],
            truncated: [{ id: 't1', label: 'app.ts', fromTokens: 900, toTokens: 100 }],
            usedTokens: 1,
            budgetTokens: 2,
            redactions: 0,
          },
        }),
      );
      assert.equal(meta.agentId, 'claude-sonnet');
      assert.equal(meta.model, 'claude-sonnet-4-5');
      assert.equal(meta.costUsd, 0.0042);
      assert.equal(meta.durationMs, 1234);
      assert.equal(meta.cached, true);
      assert.equal(meta.task, 'code');
      assert.deepEqual(meta.pruned, { dropped: ['big.ts'], truncated: ['app.ts'] });
      assert.equal(resultMeta(success()).pruned, undefined);
    });

    it('marks a cost counted with the tokenizer (no usage from the provider) as estimated, and only then', () => {
      assert.equal(resultMeta(success({ usageEstimated: true })).costEstimated, true);
      assert.equal(resultMeta(success()).costEstimated, undefined);
      assert.equal(formatCost(0.0042, true), '≈$0.0042');
      assert.equal(formatCost(0.0042), '$0.0042');
    });

    it('shows the error message through the sanitiser', () => {
      const e = new MaofError('AUTH', 'Key rejected by http://10.0.0.1:8080 — run "MAOF: Set API Key".');
      assert.deepEqual(errorInfo(e, (t) => t.replace(/http\S+/, 'the endpoint')), { code: 'AUTH', message: 'Key rejected by the endpoint — run "MAOF: Set API Key".' });
    });
  });

  describe('status lines', () => {
    it('narrates a rate-limit retry with provider, countdown and attempt', () => {
      const line = statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 1, waitMs: 2100, code: 'RATE_LIMITED' }, agents, 3);
      assert.deepEqual(line, { text: 'Rate-limited by OpenAI — retrying in 3 s (attempt 2/3)', waitMs: 2100 });
      const overloaded = statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'claude-sonnet', attempt: 2, waitMs: 100, code: 'OVERLOADED' }, agents, 3);
      assert.equal(overloaded?.text, 'Anthropic is overloaded — retrying in 1 s (attempt 3/3)');
    });

    it('says how long a failed attempt took before the retry (a gateway retrying on its own makes it long)', () => {
      const line = statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 1, waitMs: 1000, code: 'UPSTREAM', elapsedMs: 41_200 }, agents, 3);
      assert.equal(line?.text, 'OpenAI server error after 41 s — retrying in 1 s (attempt 2/3)');
      const quick = statusLine({ type: 'retry.scheduled', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 1, waitMs: 1000, code: 'UPSTREAM', elapsedMs: 40 }, agents, 3);
      assert.equal(quick?.text, 'OpenAI server error — retrying in 1 s (attempt 2/3)', 'a quick failure needs no time');
    });

    it('says why an agent of unknown price was skipped under a budget', () => {
      assert.equal(
        statusLine({ type: 'agent.skipped', at: 0, requestId: 'r', agentId: 'team-gw', reason: 'PRICE_UNKNOWN' }, agents, 3)?.text,
        'team-gw has no known price and a budget is set — skipping it (set its pricing)',
      );
    });

    it('shows a wait instead of a failure as a countdown that offers retry now and switch agent', () => {
      assert.deepEqual(statusLine({ type: 'waiting', at: 1_000, requestId: 'r', agentId: 'gpt-4.1', reason: 'rate-limit', until: 4_000 }, agents, 3), {
        text: "OpenAI asked to slow down — waiting for gpt-4.1's rate limit, sending in 3 s",
        waitMs: 3_000,
        wait: { reason: 'rate-limit', agentId: 'gpt-4.1' },
      });
      assert.match(statusLine({ type: 'waiting', at: 0, requestId: 'r', agentId: 'gpt-4.1', reason: 'breaker', until: 30_000 }, agents, 3)?.text ?? '', /Waiting for an open breaker’s cool-down — trying gpt-4\.1 again in 30 s/);
      assert.match(statusLine({ type: 'waiting', at: 0, requestId: 'r', agentId: 'gpt-4.1', reason: 'budget', until: 60_000 }, agents, 3)?.text ?? '', /Waiting for budget held by requests in flight — giving up in 60 s/);
    });

    it('narrates fallbacks, rate-limit queueing, skipped agents and attempts', () => {
      assert.equal(statusLine({ type: 'fallback', at: 0, requestId: 'r', from: 'gpt-4.1', to: 'claude-sonnet', reason: 'RATE_LIMITED' }, agents, 3)?.text, 'gpt-4.1 failed (rate-limited) — falling back to claude-sonnet');
      assert.deepEqual(statusLine({ type: 'queued', at: 0, requestId: 'r', agentId: 'gpt-4.1', waitMs: 4000, reason: 'rpm' }, agents, 3), {
        text: "Queued by gpt-4.1's rate limit (requests per minute) — sending in 4 s",
        waitMs: 4000,
      });
      assert.match(statusLine({ type: 'agent.skipped', at: 0, requestId: 'r', agentId: 'gpt-4.1', reason: 'CIRCUIT_OPEN' }, agents, 3)?.text ?? '', /Skipping gpt-4\.1 \(breaker open\)/);
      assert.equal(statusLine({ type: 'attempt', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 1 }, agents, 3)?.text, 'Asking gpt-4.1…');
      assert.equal(statusLine({ type: 'attempt', at: 0, requestId: 'r', agentId: 'gpt-4.1', attempt: 2 }, agents, 3)?.text, 'Retrying gpt-4.1 (attempt 2/3)…');
      assert.equal(statusLine({ type: 'usage', at: 0, requestId: 'r', agentId: 'a', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0 }, agents, 3), undefined);
    });
  });

  describe('saved history', () => {
    const msg = (i: number, over: Partial<ChatHistoryMessage> = {}): ChatHistoryMessage => ({ id: `m${i}`, role: i % 2 ? 'assistant' : 'user', content: `text ${i}`, at: i, ...over });

    it('keeps the last 100 messages and caps long text, marking it', () => {
      const many = Array.from({ length: 130 }, (_, i) => msg(i));
      many[129] = msg(129, { content: 'x'.repeat(50_000) });
      const bounded = boundHistory(many);
      assert.equal(bounded.length, 100);
      assert.equal(bounded[0].id, 'm30');
      assert.ok(bounded[99].content.length < 21_000);
      assert.equal(bounded[99].truncated, true);
      assert.equal(bounded[0].truncated, undefined);
      assert.equal(many[129].content.length, 50_000, 'the live messages are not changed');
    });

    it('restores a saved conversation and marks an answer cut off by a reload', () => {
      const saved = {
        v: 1,
        sessionId: 'sess',
        selectedAgent: 'gpt-4.1',
        includeContext: false,
        messages: [msg(0), msg(1, { pending: true, content: 'half an ans' }), { id: 42 }, msg(3, { meta: { agentId: 'a', model: 'm', costUsd: 0, attempts: 1, retries: 0, fallbacks: 0, cached: false, durationMs: 1 } })],
      };
      const r = restoreChat(saved, () => 'new');
      assert.equal(r.sessionId, 'sess');
      assert.equal(r.selectedAgent, 'gpt-4.1');
      assert.equal(r.includeContext, false);
      assert.deepEqual(r.messages.map((m) => m.id), ['m0', 'm1', 'm3'], 'an invalid message is left out, the rest kept');
      assert.equal(r.messages[1].pending, undefined);
      assert.equal(r.messages[1].content, 'half an ans');
      assert.equal(r.messages[1].error?.code, 'CANCELLED');
    });

    it('names what it left out, for the log, and says nothing of a chat that was never saved', () => {
      const problems: string[] = [];
      restoreChat({ v: 1, sessionId: 's', messages: [msg(0), { id: 42 }, null] }, () => 'new', problems);
      assert.deepEqual(problems, ['messages: dropped 2 invalid item(s)']);
      const garbage: string[] = [];
      assert.equal(restoreChat('x', () => 'fresh', garbage).sessionId, 'fresh');
      assert.deepEqual(garbage, ['not a saved chat; starting a new conversation']);
      const none: string[] = [];
      restoreChat(undefined, () => 'fresh', none);
      assert.deepEqual(none, []);
    });

    it('starts afresh from nothing or garbage', () => {
      for (const raw of [undefined, null, 'x', { v: 2 }, { v: 1, sessionId: '', messages: [] }]) {
        const r = restoreChat(raw, () => 'fresh');
        assert.equal(r.sessionId, 'fresh');
        assert.deepEqual(r.messages, []);
        assert.equal(r.selectedAgent, 'auto');
      }
    });
  });
});
