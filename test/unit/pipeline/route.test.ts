// Stage 3 alone: the order agents are tried in, what is skipped before anything is prepared, when
// the next agent is tried, and the wait for an open breaker.
import assert from 'node:assert/strict';
import { MaofError } from '../../../src/core/errors';
import { admitAgent, planAgents, runRoute } from '../../../src/core/pipeline/route';
import { ANTHROPIC_KEY } from '../helpers/orchestratorHarness';
import { agentOf, routeOf, stageConfig, stages, thrown, withTime } from '../helpers/pipelineHarness';

describe('pipeline stage: route', () => {
  it('plans the task route in order; a pinned agent alone', async () => {
    const s = stages();
    const routed = await planAgents(Object.assign(s.context({}), { task: 'analysis' }));
    assert.deepEqual(routed.agents.map((a) => a.id), ['b', 'a']);
    assert.equal(routed.conversationKey, undefined, 'a one-shot request');
    const pinned = await planAgents(Object.assign(s.context({ agentId: 'a', sessionId: 's1' }), { task: 'code' }));
    assert.deepEqual(pinned.agents.map((a) => a.id), ['a']);
    assert.equal(pinned.conversationKey, undefined, 'a pinned agent is not kept sticky');
    const unknown = await thrown(() => planAgents(Object.assign(s.context({}), { task: 'poetry' })));
    assert.equal(unknown.code, 'CONFIG');
    assert.match(unknown.message, /There is no route for task "poetry"/);
  });

  it('falls back on a failure another agent may not have, with a fallback event; stops on one it would', async () => {
    const s = stages(stageConfig({ retry: { maxAttempts: 1 } }));
    s.provider.then({ error: new MaofError('OVERLOADED', 'overloaded', { status: 529 }) }, { text: 'from b' });
    const ctx = Object.assign(s.context({}), { task: 'code' });
    const r = await runRoute(ctx, routeOf(s, 'code'));
    assert.deepEqual([r.agentId, r.text], ['b', 'from b']);
    assert.deepEqual(ctx.attempts.map((a) => [a.agent, a.outcome]), [['a', 'OVERLOADED'], ['b', 'ok']]);
    assert.ok(s.events.some((e) => e.type === 'fallback' && e.from === 'a' && e.to === 'b' && e.reason === 'OVERLOADED'));

    const bad = stages();
    bad.provider.then({ error: new MaofError('BAD_REQUEST', 'bad', { status: 400 }) });
    const err = await thrown(runRoute(Object.assign(bad.context({}), { task: 'code' }), routeOf(bad, 'code')));
    assert.equal(err.code, 'BAD_REQUEST');
    assert.equal(bad.provider.requests.length, 1, 'b was not asked');
  });

  it('admits an agent only with a key and a breaker that is not open', async () => {
    const keyless = stages(stageConfig(), { secrets: { 'provider:anthropic': ANTHROPIC_KEY } });
    const ctx = Object.assign(keyless.context({}), { task: 'code' });
    const noKey = await thrown(() => admitAgent(ctx, agentOf(keyless, 'a'), undefined, true));
    assert.equal(noKey.code, 'AUTH');
    assert.match(noKey.message, /No OpenAI API key is set for agent "a" — run "MAOF: Set API Key"/);
    const r = await runRoute(ctx, routeOf(keyless, 'code'));
    assert.equal(r.agentId, 'b', 'the agent with a key answers');

    const open = stages();
    open.services.breakers.get('a').recordFailure('UPSTREAM');
    open.services.breakers.get('a').recordFailure('UPSTREAM');
    const octx = Object.assign(open.context({}), { task: 'code' });
    assert.equal((await thrown(() => admitAgent(octx, agentOf(open, 'a'), 'sk-test', true))).code, 'CIRCUIT_OPEN');
    assert.ok(open.events.some((e) => e.type === 'agent.skipped' && e.agentId === 'a' && e.reason === 'CIRCUIT_OPEN'));
  });

  it('when the breaker of every agent is open, waits for the first cool-down, then answers', async () => {
    const s = stages(stageConfig({ routes: { code: ['a'] } }));
    for (let i = 0; i < 2; i++) s.services.breakers.get('a').recordFailure('UPSTREAM');
    const ctx = Object.assign(s.context({}), { task: 'code' });
    const started = s.clock.now();
    const r = await withTime(s.clock, runRoute(ctx, [agentOf(s, 'a')]));
    assert.equal(r.agentId, 'a');
    assert.equal(s.clock.now() - started, 30_000, 'answered once the breaker let a probe through');
    const waiting = s.events.find((e) => e.type === 'waiting');
    assert.ok(waiting && waiting.type === 'waiting' && waiting.reason === 'breaker' && waiting.until === started + 30_000);
  });

  it('past maxTotalMs, an open breaker fails the request at once', async () => {
    const s = stages(stageConfig({ routes: { code: ['a'] }, retry: { maxTotalMs: 10_000 } }));
    for (let i = 0; i < 2; i++) s.services.breakers.get('a').recordFailure('UPSTREAM');
    const err = await thrown(runRoute(Object.assign(s.context({}), { task: 'code' }), [agentOf(s, 'a')]));
    assert.equal(err.code, 'CIRCUIT_OPEN');
    assert.equal(s.provider.requests.length, 0);
  });
});
