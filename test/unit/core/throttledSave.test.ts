import assert from 'node:assert/strict';
import { ThrottledSave } from '../../../src/core/persistence/throttledSave';
import { FakeClock } from '../helpers/fakeClock';

describe('ThrottledSave', () => {
  let clock: FakeClock;
  let saves: number[];
  let saver: ThrottledSave;
  let value: number;
  let saved: number[];

  beforeEach(() => {
    clock = new FakeClock();
    saves = [];
    saved = [];
    value = 0;
    saver = new ThrottledSave(
      () => {
        saves.push(clock.now());
        saved.push(value);
        return Promise.resolve();
      },
      clock,
      1_000,
      () => undefined,
    );
  });
  afterEach(() => clock.reset());

  it('saves the first change at once and a storm of changes once per interval, always the latest', async () => {
    const start = clock.now();
    value = 1;
    saver.request();
    await clock.flush();
    assert.deepEqual(saves, [start], 'the first change after a quiet spell is saved at once');
    for (let i = 2; i <= 200; i++) {
      value = i;
      saver.request();
      await clock.advance(10);
    }
    // 1,990 ms of changes every 10 ms: saved at 1,000 ms and 2,000 ms, not 199 times.
    await clock.advance(100);
    assert.deepEqual(saves, [start, start + 1_000, start + 2_000]);
    assert.equal(saved.at(-1), 200);
  });

  it('an urgent change and flush() do not wait for the interval', async () => {
    saver.request();
    await clock.flush();
    saver.request();
    await clock.flush();
    assert.equal(saves.length, 1, 'the second change waits');
    saver.request(true);
    await clock.flush();
    assert.equal(saves.length, 2, 'an urgent change is saved at once');
    value = 7;
    saver.request();
    await saver.flush();
    assert.equal(saves.length, 3);
    assert.equal(saved.at(-1), 7);
    assert.equal(clock.pendingSleeps(), 0, 'nothing left waiting after flush');
  });
});
