// Stage 6 alone: reserve → breaker → limiter → provider → settle, with retries on the fake clock,
// a 429 as a pause of the key, a budget refusal before anything is sent, and a cancel billed.
import assert from 'node:assert/strict';
import { MaofError } from '../../../src/core/errors';
import { callAgent } from '../../../src/core/pipeline/agentCall';
import { prepareContext } from '../../../src/core/pipeline/prepareContext';
import { agentOf, stageConfig, stages, thrown, withTime, type Stages } from '../helpers/pipelineHarness';

function call(s: Stages, req: Parameters<Stages['context']>[0] = {}, agentId = 'a') {
  const ctx = Object.assign(s.context(req), { task: 'code' });
  return { ctx, call: prepareContext(ctx, agentOf(s, agentId), 'sk-test') };
}

describe('pipeline stage: agent call', () => {
  it('settles the real cost in the ledger (task, source) and releases the worst-case reservation', async () => {
    const s = stages();
    const { ctx, call: c } = call(s, { source: 'commands' });
    s.provider.then({ text: 'done', inputTokens: 1_000, outputTokens: 100 });
    const out = await callAgent(ctx, c);
    assert.equal(out.response.text, 'done');
    const [entry] = s.services.ledger.recent(1);
    assert.deepEqual([entry.task, entry.source, entry.agentId, entry.usage.inputTokens], ['code', 'commands', 'a', 1_000]);
    assert.equal(entry.costUsd, out.costUsd);
    assert.equal(ctx.costUsd, out.costUsd);
    assert.equal(s.services.ledger.summary().reservedUsd, 0);
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['ok']);
  });

  it('retries a retryable failure after the backoff (fake clock), the breaker counting it', async () => {
    const s = stages();
    const { ctx, call: c } = call(s);
    s.provider.then({ error: new MaofError('OVERLOADED', 'overloaded', { status: 529 }) }, { text: 'second time' });
    const out = await withTime(s.clock, callAgent(ctx, c));
    assert.equal(out.response.text, 'second time');
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['OVERLOADED', 'ok']);
    const retry = s.events.find((e) => e.type === 'retry.scheduled');
    assert.ok(retry && retry.type === 'retry.scheduled' && retry.waitMs > 0 && retry.code === 'OVERLOADED');
  });

  it("a 429 with Retry-After pauses the key for that long, is no breaker failure and does not use up the request's attempts", async () => {
    const s = stages(stageConfig({ retry: { maxAttempts: 1, maxRetryAfterMs: 5_000, maxTotalMs: 60_000 } }));
    const { ctx, call: c } = call(s);
    s.provider.then({ error: new MaofError('RATE_LIMITED', 'slow down', { status: 429, retryAfterMs: 2_000 }) }, { text: 'after the pause' });
    const started = s.clock.now();
    const out = await withTime(s.clock, callAgent(ctx, c));
    assert.equal(out.response.text, 'after the pause');
    assert.ok(s.clock.now() - started >= 2_000, 'waited the pause out');
    assert.deepEqual(ctx.attempts.map((a) => [a.outcome, a.waitMs]), [['RATE_LIMITED', 2_000], ['ok', undefined]]);
    assert.equal(s.services.breakers.get('a').state, 'closed');
    assert.ok(s.events.some((e) => e.type === 'waiting' && e.reason === 'rate-limit'));
  });

  it('over budget, refuses with BUDGET_EXCEEDED before anything is sent', async () => {
    const s = stages(stageConfig({ budget: { perRequestUsd: 0.000001 } }));
    const { ctx, call: c } = call(s);
    const err = await thrown(callAgent(ctx, c));
    assert.equal(err.code, 'BUDGET_EXCEEDED');
    assert.match(err.message, /above the per-request limit/);
    assert.equal(s.provider.requests.length, 0);
  });

  it('a cancel while the call is at the provider is billed (estimated), not released', async () => {
    const s = stages();
    const abort = new AbortController();
    const { ctx, call: c } = call(s, { signal: abort.signal });
    s.provider.then({ hang: true });
    const pending = callAgent(ctx, c);
    await s.clock.flush();
    abort.abort();
    assert.equal((await thrown(pending)).code, 'CANCELLED');
    const [entry] = s.services.ledger.recent(1);
    assert.ok(entry && entry.usage.inputTokens > 0 && entry.costUsd > 0, 'the read prompt is billed');
    assert.equal(s.services.ledger.summary().reservedUsd, 0);
  });

  it('an empty answer is billed but is no success (INVALID_OUTPUT, the server counted as up)', async () => {
    const s = stages();
    const { ctx, call: c } = call(s);
    s.provider.then({ text: '   ' });
    const err = await thrown(callAgent(ctx, c));
    assert.equal(err.code, 'INVALID_OUTPUT');
    assert.match(err.message, /sent an empty answer/);
    assert.equal(s.services.ledger.recent(1).length, 1);
    assert.equal(s.services.breakers.get('a').state, 'closed');
  });
});
