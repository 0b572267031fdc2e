// Stage 7 alone: a structured task's invalid answer gets exactly one repair request; a second
// invalid answer is INVALID_OUTPUT, never passed on.
import assert from 'node:assert/strict';
import { answer, structuredOf } from '../../../src/core/pipeline/structured';
import { prepareContext } from '../../../src/core/pipeline/prepareContext';
import { agentOf, stages, thrown } from '../helpers/pipelineHarness';

const VALID = JSON.stringify({ summary: 'fine', findings: [], confidence: 0.9 });

describe('pipeline stage: structured output', () => {
  function analysis() {
    const s = stages();
    const ctx = Object.assign(s.context({ prompt: 'review this' }), { task: 'analysis' });
    return { s, ctx, call: prepareContext(ctx, agentOf(s, 'b'), 'sk-test') };
  }

  it('repairs an invalid answer once, in the same conversation, and both calls are paid', async () => {
    const { s, ctx, call } = analysis();
    s.provider.then({ text: 'Looks fine to me.' }, { text: VALID });
    const value = await answer(ctx, call);
    assert.equal(value.text, VALID);
    assert.deepEqual(structuredOf(call, value.text), { summary: 'fine', findings: [], confidence: 0.9 });
    assert.equal(s.provider.requests.length, 2);
    const repair = s.provider.requests[1].messages;
    assert.deepEqual(repair.slice(-2).map((m) => m.role), ['assistant', 'user']);
    assert.match(repair.at(-1)!.content, /^Your previous answer could not be used \(the answer held no JSON object\)/);
    assert.equal(s.services.ledger.recent(5).length, 2);
    assert.equal(value.costUsd, ctx.costUsd);
  });

  it('a second invalid answer is INVALID_OUTPUT (the route tries the next agent)', async () => {
    const { s, ctx, call } = analysis();
    s.provider.then({ text: 'no' }, { text: '{"summary": ""}' });
    const err = await thrown(answer(ctx, call));
    assert.equal(err.code, 'INVALID_OUTPUT');
    assert.match(err.message, /did not return a usable structured answer/);
    assert.equal(ctx.attempts.at(-1)?.outcome, 'INVALID_OUTPUT');
  });

  it('a task without a schema is passed on as it came', async () => {
    const s = stages();
    const ctx = Object.assign(s.context({}), { task: 'code' });
    const call = prepareContext(ctx, agentOf(s, 'a'), 'sk-test');
    s.provider.then({ text: 'not json' });
    assert.equal((await answer(ctx, call)).text, 'not json');
    assert.equal(s.provider.requests.length, 1);
  });
});
