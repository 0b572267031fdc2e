// Stage 8 alone: the caller's result (success or failure), the turn kept in session memory, and
// request.finished for every request.
import assert from 'node:assert/strict';
import { MaofError } from '../../../src/core/errors';
import { finishFailure, finishSuccess, successResult } from '../../../src/core/pipeline/finish';
import { prepareContext } from '../../../src/core/pipeline/prepareContext';
import { agentOf, stages } from '../helpers/pipelineHarness';

describe('pipeline stage: finish', () => {
  it("keeps the turn's text (not the instructions) in session memory and emits request.finished with the counted attempts", () => {
    const s = stages();
    const ctx = Object.assign(s.context({ prompt: 'implement a stack', sessionId: 'chat' }), { task: 'code' });
    const call = prepareContext(ctx, agentOf(s, 'a'), 'sk-test');
    ctx.attempts.push({ agent: 'b', outcome: 'skipped' }, { agent: 'a', outcome: 'OVERLOADED' }, { agent: 'a', outcome: 'ok' });
    const value = { text: 'class Stack {}', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, agentId: 'a', model: 'gpt-4.1-mini', costUsd: 0.01, finishReason: 'stop' as const };
    const r = finishSuccess(ctx, { agents: [], conversationKey: undefined }, successResult(ctx, call, value, false));
    assert.deepEqual([r.ok, r.agentId, r.text, r.cached], [true, 'a', 'class Stack {}', false]);
    assert.deepEqual(s.services.sessions.get('chat').toMessages().map((m) => [m.role, m.content]), [['user', 'implement a stack'], ['assistant', 'class Stack {}']]);
    const finished = s.events.find((e) => e.type === 'request.finished');
    assert.ok(finished && finished.type === 'request.finished' && finished.ok && finished.attempts === 2, 'skipped attempts are not counted');
  });

  it('a failure keeps what was spent and tried; once the caller aborted it is CANCELLED whatever failed', () => {
    const s = stages();
    const ctx = Object.assign(s.context({}), { task: 'code' });
    ctx.costUsd = 0.02;
    ctx.attempts.push({ agent: 'a', outcome: 'TIMEOUT' });
    const r = finishFailure(ctx, new MaofError('TIMEOUT', 'Agent "a" timed out — try again.'));
    assert.ok(!r.ok);
    assert.deepEqual([r.error.code, r.costUsd, r.attempts.length], ['TIMEOUT', 0.02, 1]);
    assert.ok(s.events.some((e) => e.type === 'request.finished' && !e.ok && e.errorCode === 'TIMEOUT'));

    const abort = new AbortController();
    const cancelled = Object.assign(s.context({ signal: abort.signal }), { task: 'code' });
    abort.abort();
    const c = finishFailure(cancelled, new MaofError('NETWORK', 'socket closed'));
    assert.ok(!c.ok && c.error.code === 'CANCELLED');
  });
});
