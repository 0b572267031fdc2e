import assert from 'node:assert/strict';
import type { MaofError } from '../../../src/core/errors';
import { FakeClock } from './fakeClock';

describe('FakeClock (test helper)', () => {
  it('fires due sleeps in time order, same-time sleeps in scheduling order', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    void clock.sleep(300).then(() => fired.push(`c@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`a@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`b@${clock.now()}`));
    await clock.advance(200);
    assert.deepEqual(fired, ['a@1100', 'b@1100']);
    assert.equal(clock.now(), 1200);
    assert.equal(clock.pendingSleeps(), 1);
    await clock.advance(100);
    assert.deepEqual(fired, ['a@1100', 'b@1100', 'c@1300']);
  });

  it('runs chained sleeps inside one advance', async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    void (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(10);
        await Promise.resolve();
        times.push(clock.now());
      }
    })();
    await clock.advance(45);
    assert.deepEqual(times, [10, 20, 30, 40]);
    assert.equal(clock.now(), 45);
  });

  it('sleep rejects with CANCELLED on abort, also when already aborted', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort();
    await assert.rejects(p, (e: MaofError) => e.code === 'CANCELLED');
    assert.equal(clock.pendingSleeps(), 0);
    await assert.rejects(clock.sleep(10, ac.signal), (e: MaofError) => e.code === 'CANCELLED');
  });

  it('runAll drains sleeps scheduled meanwhile and stops a loop that never ends', async () => {
    const clock = new FakeClock(0);
    let n = 0;
    void (async () => {
      while (n < 3) {
        await clock.sleep(1000);
        n++;
      }
    })();
    await clock.runAll();
    assert.equal(n, 3);
    assert.equal(clock.now(), 3000);

    let stop = false;
    void (async () => {
      while (!stop) await clock.sleep(1);
    })();
    await assert.rejects(clock.runAll(50), /still busy/);
    stop = true;
    await clock.advance(1);
  });
});
