// Stage 5 alone: a deterministic request is answered once and then from the cache (a saving in the
// ledger, the text streamed to the caller); tools and non-deterministic requests always go out.
import assert from 'node:assert/strict';
import { cachedAnswer, cacheKeyOf } from '../../../src/core/pipeline/cache';
import { prepareContext } from '../../../src/core/pipeline/prepareContext';
import { runRouteOnce } from '../../../src/core/pipeline/route';
import { agentOf, stageConfig, stages, type Stages } from '../helpers/pipelineHarness';

function call(s: Stages, req: Parameters<Stages['context']>[0] = {}) {
  const ctx = Object.assign(s.context(req), { task: 'code' });
  return { ctx, call: prepareContext(ctx, agentOf(s, 'a'), 'sk-test') };
}

describe('pipeline stage: response cache', () => {
  it('answers the same deterministic request from the cache: nothing sent, a saving recorded, the text delivered', async () => {
    const s = stages(stageConfig({ cache: { enabled: true } }));
    s.provider.then({ text: 'cached answer' });
    const first = call(s, { temperature: 0 });
    assert.equal((await cachedAnswer(first.ctx, first.call, cacheKeyOf(first.ctx, first.call)!)).cached, false);
    const deltas: string[] = [];
    const second = call(s, { temperature: 0, onDelta: (t) => deltas.push(t) });
    const got = await cachedAnswer(second.ctx, second.call, cacheKeyOf(second.ctx, second.call)!);
    assert.deepEqual([got.cached, got.value.text], [true, 'cached answer']);
    assert.equal(s.provider.requests.length, 1);
    assert.deepEqual(second.ctx.attempts, [{ agent: 'a', outcome: 'cached' }]);
    assert.deepEqual(deltas, ['cached answer']);
    assert.equal(s.services.ledger.summary().cacheHits, 1);
    assert.ok(s.events.some((e) => e.type === 'cache.hit'));
  });

  it('never caches a request with tools, or one that is not deterministic', async () => {
    const s = stages(stageConfig({ cache: { enabled: true } }));
    const tools = [{ name: 'ls', description: 'list files', inputSchema: { type: 'object' } }];
    assert.equal(cacheKeyOf(s.context({}), call(s, { temperature: 0, tools }).call), undefined);
    assert.equal(cacheKeyOf(s.context({}), call(s, { temperature: 0.7 }).call), undefined);
    assert.ok(cacheKeyOf(s.context({}), call(s, { temperature: 0 }).call));
    for (let i = 0; i < 2; i++) {
      const r = await runRouteOnce(Object.assign(s.context({ temperature: 0.7 }), { task: 'code' }), [agentOf(s, 'a')]);
      assert.equal(r.cached, false);
    }
    assert.equal(s.provider.requests.length, 2);
  });
});
