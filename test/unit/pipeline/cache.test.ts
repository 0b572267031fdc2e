// Stage 5 alone: a deterministic request is answered once and then from the cache (a saving in the
// ledger, the text streamed to the caller); tools and non-deterministic requests always go out.
import assert from 'node:assert/strict';
import { cachedAnswer, cacheKeyOf, type Answer } from '../../../src/core/pipeline/cache';
import type { ChatMessage } from '../../../src/core/types';
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

  it('caches a conversation with tool results or an image by what they hold, not by its text alone', async () => {
    const s = stages(stageConfig({ cache: { enabled: true } }));
    s.provider.then({ text: 'first' }).then({ text: 'second' });
    const turn = (content: string): ChatMessage[] => [
      { role: 'user', content: 'Read a.ts' },
      { role: 'assistant', content: '', parts: [{ type: 'tool_call', id: 'c1', name: 'read_file', input: { path: 'a.ts' } }] },
      { role: 'user', content: '', parts: [{ type: 'tool_result', callId: 'c1', content }] },
    ];
    const ask = async (content: string): Promise<Answer> => {
      const c = call(s, { temperature: 0, messages: turn(content), instructions: 'own' });
      const key = cacheKeyOf(c.ctx, c.call);
      assert.ok(key, 'a conversation with tool results has a key');
      return cachedAnswer(c.ctx, c.call, key);
    };
    assert.deepEqual([(await ask('export const a = 1;')).value.text, (await ask('export const a = 1;')).cached], ['first', true]);
    const other = await ask('export const a = 2;');
    assert.deepEqual([other.cached, other.value.text], [false, 'second'], 'another tool result is another request');
    assert.equal(s.provider.requests.length, 2);
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
