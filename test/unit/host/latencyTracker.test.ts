import * as assert from 'node:assert/strict';
import { LatencyTracker, percentile, RingBuffer } from '../../../src/host/dashboard/latencyTracker';

describe('latency tracking', () => {
  it('RingBuffer keeps the last N values, oldest first', () => {
    const r = new RingBuffer(3);
    assert.deepEqual(r.toArray(), []);
    r.push(1);
    r.push(2);
    assert.deepEqual(r.toArray(), [1, 2]);
    r.push(3);
    r.push(4);
    r.push(5);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.size, 3);
    assert.throws(() => new RingBuffer(0), RangeError);
  });

  it('percentile uses the nearest rank', () => {
    assert.equal(percentile([], 0.5), undefined);
    assert.equal(percentile([7], 0.95), 7);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    assert.equal(percentile(hundred, 0.5), 50);
    assert.equal(percentile(hundred, 0.95), 95);
    assert.equal(percentile(hundred, 1), 100);
    assert.equal(percentile([10, 20, 30, 40], 0.5), 20);
  });

  it('reports p50 / p95 per agent over the last samples only', () => {
    const t = new LatencyTracker(10);
    for (let i = 0; i < 10; i++) t.record('slow', 10_000); // pushed out below
    for (let i = 1; i <= 10; i++) t.record('slow', i * 100);
    t.record('fast', 50);
    t.record('fast', Number.NaN);
    t.record('fast', -1);
    const stats = t.stats();
    assert.deepEqual(stats.map((s) => s.agentId), ['fast', 'slow']);
    assert.deepEqual(stats[0], { agentId: 'fast', p50Ms: 50, p95Ms: 50, samples: 1 });
    assert.deepEqual(stats[1], { agentId: 'slow', p50Ms: 500, p95Ms: 1000, samples: 10 });
  });
});
