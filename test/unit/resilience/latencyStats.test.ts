// Per-agent latency: a bounded ring of times to first token read as percentiles, kept across
// restarts through the StateStore (with a damaged entry costing only that agent), and the
// first-token deadline it teaches (cold start → learned, bounded, an agent's own setting first).
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/schema';
import { LATENCY_STATE_KEY, Orchestrator } from '../../../src/core/orchestrator';
import { MemoryStateStore } from '../../../src/core/ports';
import { LEARN_CEILING_MS, LEARN_FLOOR_MS, firstTokenDeadline } from '../../../src/core/resilience/deadlines';
import { LatencyStats, TTFT_SAMPLES } from '../../../src/core/resilience/latencyStats';
import { FakeClock } from '../helpers/fakeClock';

const config = parseConfig({}).config;
const agent = (extra: Record<string, unknown> = {}) => parseConfig({ agents: [{ id: 'x', provider: 'openai', model: 'm', contextWindow: 1000, ...extra }] }).config.agents.find((a) => a.id === 'x')!;

describe('LatencyStats', () => {
  it('keeps the last TTFT_SAMPLES first-token times and reads percentiles by nearest rank over them', () => {
    const stats = new LatencyStats();
    for (let i = 1; i <= 100; i++) stats.recordAnswer('a', i * 10, 100, 1_000);
    assert.equal(stats.samples('a'), TTFT_SAMPLES);
    // The oldest 36 (10…360 ms) are gone: 370…1000 ms remain.
    assert.equal(stats.ttftPercentile('a', 0), 370);
    assert.equal(stats.ttftPercentile('a', 0.5), 680);
    assert.equal(stats.ttftPercentile('a', 0.95), 970);
    assert.equal(stats.snapshot('a')?.ok, 100);
    assert.equal(Math.round(stats.snapshot('a')?.tokensPerSec ?? 0), 100);
    assert.equal(stats.ttftPercentile('nobody', 0.5), undefined);
  });

  it('a snapshot restored elsewhere replaces the oldest sample first', () => {
    const a = new LatencyStats();
    for (let i = 1; i <= TTFT_SAMPLES + 5; i++) a.recordAnswer('x', i, 0, 0);
    const b = new LatencyStats();
    b.restore({ x: a.snapshot('x')! });
    b.recordAnswer('x', 10_000, 0, 0);
    assert.equal(b.ttftPercentile('x', 0), 7, 'the oldest kept sample (6) went first');
  });

  it('is kept across restarts through the StateStore; a damaged agent entry is dropped alone', async () => {
    const store = new MemoryStateStore();
    const clock = new FakeClock(Date.UTC(2025, 5, 15));
    const first = new Orchestrator({ config, secrets: { get: () => Promise.resolve(undefined) }, store, clock });
    first.latency.recordAnswer('gpt-4.1', 800, 200, 2_000);
    first.latency.recordFailure('gpt-4.1', 'stalled');
    await first.flush();
    const saved = store.get(LATENCY_STATE_KEY) as Record<string, unknown>;
    await store.update(LATENCY_STATE_KEY, { ...saved, broken: { ttftMs: 'no' } });
    const second = new Orchestrator({ config, secrets: { get: () => Promise.resolve(undefined) }, store, clock });
    const row = second.latencyReport().find((r) => r.agentId === 'gpt-4.1');
    assert.deepEqual([row?.samples, row?.ttftP50Ms, row?.stalled, row?.tokensPerSec], [1, 800, 1, 100]);
    assert.equal(second.latency.samples('broken'), 0);
    clock.reset();
  });
});

describe('first-token deadline', () => {
  const policy = config.deadlines;

  it('is the cold-start default until the agent answered five times, then p95 × 4 within its bounds', () => {
    const stats = new LatencyStats();
    assert.deepEqual(firstTokenDeadline(agent(), policy, stats), { ms: 12_000, source: 'cold-start' });
    for (let i = 0; i < 5; i++) stats.recordAnswer('x', 3_000, 0, 0);
    assert.deepEqual(firstTokenDeadline(agent(), policy, stats), { ms: 12_000, source: 'learned' });
    stats.recordAnswer('x', 100_000, 0, 0);
    assert.deepEqual(firstTokenDeadline(agent(), policy, stats), { ms: LEARN_CEILING_MS, source: 'learned' });
    const fast = new LatencyStats();
    for (let i = 0; i < 5; i++) fast.recordAnswer('x', 200, 0, 0);
    assert.deepEqual(firstTokenDeadline(agent(), policy, fast), { ms: LEARN_FLOOR_MS, source: 'learned' });
  });

  it("an agent's own setting wins (0: off), and maof.deadlines.enabled false turns the rest off", () => {
    const stats = new LatencyStats();
    assert.deepEqual(firstTokenDeadline(agent({ firstTokenTimeoutMs: 45_000 }), policy, stats), { ms: 45_000, source: 'setting' });
    assert.deepEqual(firstTokenDeadline(agent({ firstTokenTimeoutMs: 0 }), policy, stats), { ms: undefined, source: 'off' });
    assert.deepEqual(firstTokenDeadline(agent(), { ...policy, enabled: false }, stats), { ms: undefined, source: 'off' });
  });
});
