import * as assert from 'node:assert/strict';
import { bufferedOutput } from '../../../src/cli/bufferedOutput';

describe('cli buffered output', () => {
  it('writes what one turn produced in a single write, in order, at the end of the turn', async () => {
    const writes: string[] = [];
    const out = bufferedOutput((s) => writes.push(s));
    for (let i = 0; i < 100; i++) out.write(`line ${i}\n`);
    assert.equal(writes.length, 0, 'nothing is written before the turn ends');
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1);
    assert.equal(writes[0], Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
    out.write('later\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes.slice(1), ['later\n']);
  });

  it('writes at once when 64 KB have gathered, and flush() empties the buffer', () => {
    const writes: string[] = [];
    const out = bufferedOutput((s) => writes.push(s), () => undefined);
    const big = 'x'.repeat(40 * 1024);
    out.write(big);
    assert.equal(writes.length, 0);
    out.write(big);
    assert.equal(writes.length, 1, 'over 64 KB is written without waiting');
    assert.equal(writes[0].length, 80 * 1024);
    out.write('tail');
    out.flush();
    assert.deepEqual(writes.slice(1), ['tail']);
    out.flush();
    assert.equal(writes.length, 2, 'an empty buffer writes nothing');
  });
});
