import * as assert from 'node:assert/strict';
import { UpdateThrottle, type ThrottleTimers } from '../../../src/host/platform/updateThrottle';

class ManualTimers implements ThrottleTimers {
  time = 1_000;
  timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const t = { at: this.time + ms, fn, live: true };
    this.timers.push(t);
    return () => {
      t.live = false;
    };
  }
  advance(ms: number): void {
    this.time += ms;
    for (const t of this.timers.filter((x) => x.live && x.at <= this.time)) {
      t.live = false;
      t.fn();
    }
  }
}

describe('UpdateThrottle', () => {
  it('refreshes at once, then at most once per interval with one trailing refresh', () => {
    const timers = new ManualTimers();
    let runs = 0;
    const th = new UpdateThrottle(() => runs++, 100, timers);
    th.request();
    assert.equal(runs, 1, 'the first change shows at once');
    for (let i = 0; i < 50; i++) th.request();
    assert.equal(runs, 1);
    timers.advance(99);
    assert.equal(runs, 1);
    timers.advance(1);
    assert.equal(runs, 2, 'the burst is folded into one trailing refresh');
    timers.advance(1_000);
    assert.equal(runs, 2, 'no refresh without a change');
    th.request();
    assert.equal(runs, 3, 'after a quiet interval a change shows at once again');
  });

  it('never exceeds ten refreshes a second under a constant stream of changes', () => {
    const timers = new ManualTimers();
    const at: number[] = [];
    const th = new UpdateThrottle(() => at.push(timers.now()), 100, timers);
    for (let ms = 0; ms < 2_000; ms += 5) {
      th.request();
      timers.advance(5);
    }
    for (let i = 1; i < at.length; i++) assert.ok(at[i] - at[i - 1] >= 100, `refreshes ${at[i - 1]} and ${at[i]} are closer than 100 ms`);
    assert.ok(at.length >= 19, `${at.length} refreshes in two seconds: changes must still show`);
  });

  it('does nothing after dispose', () => {
    const timers = new ManualTimers();
    let runs = 0;
    const th = new UpdateThrottle(() => runs++, 100, timers);
    th.request();
    th.request();
    th.dispose();
    timers.advance(200);
    th.request();
    assert.equal(runs, 1);
  });
});
