// Stage 1 alone: what is refused before anything else runs, and what goes on.
import assert from 'node:assert/strict';
import { validate } from '../../../src/core/pipeline/validate';
import { stages, thrown } from '../helpers/pipelineHarness';

describe('pipeline stage: validate', () => {
  const { context } = stages();

  it('refuses an empty prompt, binary data and a prompt over 2 million characters, naming the fix', async () => {
    const empty = await thrown(() => validate(context({ prompt: '  \n ' })));
    assert.deepEqual([empty.code, empty.message], ['BAD_REQUEST', 'The prompt is empty — type what you want the agent to do.']);
    assert.equal((await thrown(() => validate(context({ prompt: 'a\u0000b' })))).code, 'BAD_REQUEST');
    const huge = await thrown(() => validate(context({ prompt: 'x'.repeat(2_000_001) })));
    assert.equal(huge.code, 'CONTEXT_TOO_LARGE');
    assert.match(huge.message, /shorten it/);
    assert.equal((await thrown(() => validate(context({ messages: [] })))).code, 'BAD_REQUEST', 'no turn at all');
  });

  it('checks the last user turn, and lets a conversation whose last turn is only a tool result go on', () => {
    validate(context({ prompt: 'implement a stack' }));
    // An earlier turn's NUL byte is not the new request's problem.
    validate(context({ messages: [{ role: 'user', content: 'old\u0000' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'new' }] }));
    const own = context({
      instructions: 'own',
      messages: [
        { role: 'user', content: 'list the files' },
        { role: 'assistant', content: '', parts: [{ type: 'tool_call', id: 'c1', name: 'ls', input: {} }] },
        { role: 'user', content: '', parts: [{ type: 'tool_result', callId: 'c1', content: 'a.ts' }] },
      ],
    });
    validate(own);
    assert.equal(own.text, 'list the files', 'the last user turn with text is what is classified');
  });
});
