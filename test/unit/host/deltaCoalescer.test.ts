import * as assert from 'node:assert/strict';
import { DeltaCoalescer } from '../../../src/host/chat/deltaCoalescer';

/** A scheduler the test runs by hand, standing in for setImmediate. */
function manualSchedule(): { schedule: (fn: () => void) => void; run: () => void; pending: () => number } {
  let queue: Array<() => void> = [];
  return {
    schedule: (fn) => {
      queue.push(fn);
    },
    run: () => {
      const q = queue;
      queue = [];
      for (const fn of q) fn();
    },
    pending: () => queue.length,
  };
}

describe('DeltaCoalescer', () => {
  it('posts the first delta at once, before any tick', () => {
    const posts: string[] = [];
    const s = manualSchedule();
    const c = new DeltaCoalescer((t) => posts.push(t), s.schedule);
    c.push('Hel');
    assert.deepEqual(posts, ['Hel']);
    assert.equal(s.pending(), 0);
  });

  it('joins deltas that arrive within one tick into one post', () => {
    const posts: string[] = [];
    const s = manualSchedule();
    const c = new DeltaCoalescer((t) => posts.push(t), s.schedule);
    c.push('a');
    for (const d of ['b', 'c', 'd', 'e']) c.push(d);
    assert.deepEqual(posts, ['a'], 'nothing more until the tick');
    assert.equal(s.pending(), 1, 'one flush scheduled for the whole burst');
    s.run();
    assert.deepEqual(posts, ['a', 'bcde']);
    c.push('f');
    c.push('g');
    s.run();
    assert.deepEqual(posts, ['a', 'bcde', 'fg']);
    assert.equal(posts.join(''), 'abcdefg', 'no text lost or reordered');
  });

  it('ignores empty deltas', () => {
    const posts: string[] = [];
    const c = new DeltaCoalescer((t) => posts.push(t), manualSchedule().schedule);
    c.push('');
    c.push('x');
    assert.deepEqual(posts, ['x']);
  });

  it('close() posts what is waiting, and nothing after', () => {
    const posts: string[] = [];
    const s = manualSchedule();
    const c = new DeltaCoalescer((t) => posts.push(t), s.schedule);
    c.push('1');
    c.push('2');
    c.close();
    assert.deepEqual(posts, ['1', '2']);
    c.push('3');
    s.run();
    assert.deepEqual(posts, ['1', '2']);
  });

  it('reset() drops waiting text from the failed attempt and treats the next delta as first', () => {
    const posts: string[] = [];
    const s = manualSchedule();
    const c = new DeltaCoalescer((t) => posts.push(t), s.schedule);
    c.push('old ');
    c.push('partial');
    c.reset();
    s.run(); // the flush scheduled before the reset must not post "partial"
    assert.deepEqual(posts, ['old ']);
    c.push('new');
    assert.deepEqual(posts, ['old ', 'new'], 'first delta of the retry goes out at once');
  });

  it('coalesces with the real next-tick scheduler', async () => {
    const posts: string[] = [];
    const c = new DeltaCoalescer((t) => posts.push(t));
    for (let i = 0; i < 100; i++) c.push(`${i},`);
    await new Promise((r) => setImmediate(r));
    assert.equal(posts.length, 2);
    assert.equal(posts.join(''), Array.from({ length: 100 }, (_, i) => `${i},`).join(''));
  });
});
