import assert from 'node:assert/strict';
import { parseBatch } from '../../../src/cli/batch';

describe('maof batch input', () => {
  it('reads prompts with task or agent and skips blank lines', () => {
    const items = parseBatch('{"prompt":"a","task":"code"}\n\n{"prompt":"b","agent":"x"}\r\n');
    assert.equal(items.length, 2);
    assert.deepEqual(items[0], { ok: true, prompt: 'a', task: 'code' });
    assert.deepEqual(items[1], { ok: true, prompt: 'b', agent: 'x' });
  });

  it('turns bad lines into clear per-line errors instead of failing the batch', () => {
    const items = parseBatch('not json\n{"task":"code"}\n{"prompt":"p","task":"code","agent":"a"}\n{"prompt":"ok"}');
    assert.equal(items.length, 4);
    const msgs = items.map((i) => (i.ok ? 'ok' : i.error.message));
    assert.match(msgs[0], /Line 1 is not valid JSON/);
    assert.match(msgs[1], /Line 2: prompt/);
    assert.match(msgs[2], /Line 3: .*not both/);
    assert.equal(msgs[3], 'ok');
  });
});
