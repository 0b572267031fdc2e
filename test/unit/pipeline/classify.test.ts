// Stage 2 alone, and through the Orchestrator: `auto` by heuristics; when they are unsure, the
// classifier agent is asked as an ordinary request — reserved, limited, retried and billed under
// task 'classify' — and whatever stops it leaves the heuristics' answer.
import assert from 'node:assert/strict';
import { MaofError } from '../../../src/core/errors';
import { Orchestrator } from '../../../src/core/orchestrator';
import { classify } from '../../../src/core/pipeline/classify';
import { MemoryStateStore } from '../../../src/core/ports';
import { userTurn } from '../../../src/core/types';
import { MapSecrets, OPENAI_KEY, ANTHROPIC_KEY } from '../helpers/orchestratorHarness';
import { agentOf, ScriptedProvider, stageConfig, stages, withTime } from '../helpers/pipelineHarness';

/** No signal for the heuristics: they fall back to 'code' with confidence 0.2. */
const UNSURE = 'hello there, please help';

function spend(s: ReturnType<typeof stages>, usd: number): void {
  const r = s.services.ledger.tryReserve(0)!;
  s.services.ledger.settle(r, { requestId: 'earlier', agentId: 'a', model: 'gpt-4.1-mini', task: 'code', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: usd, cached: false });
}

describe('pipeline stage: classify', () => {
  it('trusts sure heuristics and asks no one', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a' }));
    const ctx = s.context({ prompt: 'Write a function that merges two sorted arrays' });
    await classify(ctx);
    assert.equal(ctx.task, 'code');
    assert.equal(ctx.classification?.source, 'heuristic');
    assert.equal(s.provider.requests.length, 0);
  });

  it('asks the classifier agent when unsure, and bills it in the ledger under task "classify" and the request\'s source', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a' }));
    s.provider.then({ text: 'writing', inputTokens: 120, outputTokens: 2 });
    const ctx = s.context({ prompt: UNSURE, source: 'MAOF chat' });
    await classify(ctx);
    assert.equal(ctx.task, 'writing');
    assert.deepEqual(ctx.classification, { task: 'writing', confidence: 0.8, reason: 'classified by a', source: 'agent' });
    assert.equal(s.provider.requests.length, 1);
    assert.equal(s.provider.requests[0].maxOutputTokens, 8);
    assert.match(s.provider.requests[0].messages.at(-1)!.content, /^Classify the request into exactly one task kind/);
    const [entry] = s.services.ledger.recent(5);
    assert.equal(entry.task, 'classify');
    assert.equal(entry.source, 'MAOF chat');
    assert.equal(entry.agentId, 'a');
    assert.deepEqual([entry.usage.inputTokens, entry.usage.outputTokens], [120, 2]);
    assert.ok(entry.costUsd > 0);
    assert.equal(ctx.costUsd, entry.costUsd, "what classifying cost is in the request's cost");
    assert.deepEqual([ctx.usage.inputTokens, ctx.usage.outputTokens], [120, 2]);
    assert.equal(s.services.ledger.summary().reservedUsd, 0, 'the reservation was settled');
    assert.deepEqual(ctx.attempts, [], "the classifier's attempts are not the request's");
  });

  it('retries the classifier like any call (an overloaded answer, then the class)', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a' }));
    s.provider.then({ error: new MaofError('OVERLOADED', 'overloaded', { status: 529 }) }, { text: 'analysis' });
    const ctx = s.context({ prompt: UNSURE });
    await withTime(s.clock, classify(ctx));
    assert.equal(ctx.task, 'analysis');
    assert.equal(s.provider.requests.length, 2);
    assert.ok(s.events.some((e) => e.type === 'retry.scheduled' && e.agentId === 'a'));
  });

  it('over budget, the classifier is refused before anything is sent and the heuristics decide', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a', budget: { monthlyUsd: 1 } }));
    spend(s, 1);
    const ctx = s.context({ prompt: UNSURE });
    await classify(ctx);
    assert.equal(s.provider.requests.length, 0, 'the provider never received the classifier call');
    assert.equal(ctx.task, 'code');
    assert.equal(ctx.classification?.source, 'default');
    assert.equal(s.services.ledger.recent(5).filter((e) => e.task === 'classify').length, 0);
  });

  it('an open breaker or a missing key leaves the heuristics, nothing sent', async () => {
    const open = stages(stageConfig({ classifierAgent: 'a' }));
    open.services.breakers.get('a').recordFailure('UPSTREAM');
    open.services.breakers.get('a').recordFailure('UPSTREAM');
    const ctx = open.context({ prompt: UNSURE });
    await classify(ctx);
    assert.deepEqual([ctx.task, open.provider.requests.length], ['code', 0]);

    const keyless = stages(stageConfig({ classifierAgent: 'a' }), { secrets: { 'provider:anthropic': ANTHROPIC_KEY } });
    const ctx2 = keyless.context({ prompt: UNSURE });
    await classify(ctx2);
    assert.deepEqual([ctx2.task, keyless.provider.requests.length], ['code', 0]);
  });

  it('a classifier whose key the provider paused (429) is not waited for: the heuristics decide at once', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a' }));
    s.services.limiter.rateLimited(s.services.keyIdFor(agentOf(s, 'a'), OPENAI_KEY), 30_000, s.clock.now());
    const ctx = s.context({ prompt: UNSURE });
    await classify(ctx);
    assert.deepEqual([ctx.task, ctx.classification?.source, s.provider.requests.length], ['code', 'default', 0]);
  });

  it('a pinned agent is not classified by anyone: the heuristics only pick its instructions', async () => {
    const s = stages(stageConfig({ classifierAgent: 'a' }));
    const ctx = s.context({ prompt: UNSURE, agentId: 'b' });
    await classify(ctx);
    assert.equal(ctx.task, 'code');
    assert.equal(ctx.classification, undefined);
    assert.equal(s.provider.requests.length, 0);
  });
});

describe('the classifier through Orchestrator.run', () => {
  function orchestrator(budget: Record<string, unknown>): { o: Orchestrator; provider: ScriptedProvider } {
    const provider = new ScriptedProvider();
    const o = new Orchestrator({
      config: stageConfig({ classifierAgent: 'a', budget }),
      secrets: new MapSecrets({ 'provider:openai': OPENAI_KEY, 'provider:anthropic': ANTHROPIC_KEY }),
      store: new MemoryStateStore(),
      providerFor: () => provider,
    });
    return { o, provider };
  }

  it('bills the classification and the answer apart: two ledger entries, "classify" and the task', async () => {
    const { o, provider } = orchestrator({});
    provider.then({ text: 'writing' }, { text: 'Dear team, …' });
    const r = await o.run({ messages: [userTurn(UNSURE)], source: 'CLI' });
    assert.ok(r.ok);
    assert.equal(r.task, 'writing');
    assert.equal(r.classification?.source, 'agent');
    assert.deepEqual(o.ledger.recent(5).map((e) => [e.task, e.source]), [['writing', 'CLI'], ['classify', 'CLI']]);
    assert.equal(o.ledger.summary().byTask.classify > 0, true);
  });

  it('with the budget exhausted, the classifier call never reaches the provider and the request is refused with BUDGET_EXCEEDED', async () => {
    const { o, provider } = orchestrator({ monthlyUsd: 1 });
    o.ledger.settle(o.ledger.tryReserve(0)!, { requestId: 'earlier', agentId: 'a', model: 'gpt-4.1-mini', task: 'code', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 1, cached: false });
    const r = await o.run({ messages: [userTurn(UNSURE)] });
    assert.equal(provider.requests.length, 0);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'BUDGET_EXCEEDED');
    assert.match(r.error.message, /^Monthly budget of \$1\.00 reached/);
    assert.equal(r.classification?.source, 'default', 'the heuristics classified it');
  });
});
