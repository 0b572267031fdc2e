// R-hedge (issue 18 §4): hedging over the simulator with the real SDKs. A primary silent past its
// hedge delay is raced by the route's next agent, whose answer arrives once while the primary's
// connection is closed and both calls are billed; a slowdown of every agent gets hedges only up to
// the token bucket's cap, never double the requests.
import assert from 'node:assert/strict';
import type { RunResult } from '../../src/core/orchestrator';
import { userTurn } from '../../src/core/types';
import { buildOrchestrator, expectOk, relConfig, simulatorPerSuite } from './support/pipeline';

describe('R-hedge: hedging a silent primary over the simulator', function () {
  this.timeout(60_000);
  const { sim, addr } = simulatorPerSuite();
  const hedged = (): ReturnType<typeof relConfig> => relConfig(addr(), { hedging: { routes: ['code'], percentile: 0.5, minDelayMs: 200, maxShare: 0.03, burst: 3 } });

  /** Streamed answers, so that the primary's time to first token is known (the median: the first, with the SDK's start-up, is slow). */
  async function warm(run: (prompt: string) => Promise<RunResult>): Promise<void> {
    for (let i = 0; i < 7; i++) expectOk(await run(`warm-up ${i}`));
  }

  it('a primary silent for 5 s: the fallback answers once, soon after the hedge delay; the primary is aborted; both are billed', async () => {
    const { orchestrator, events } = buildOrchestrator('hedge', hedged());
    const ask = (prompt: string, onDelta?: (d: string) => void): Promise<RunResult> => orchestrator.run({ messages: [userTurn(prompt)], task: 'code', stream: true, structured: false, onDelta: onDelta ?? (() => undefined) });
    await warm(ask);
    // The backup's SDK loaded too, so that its time is the simulator's, not a first import's.
    expectOk(await orchestrator.run({ messages: [userTurn('warm-up an')], agentId: 'an', structured: false }));
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'delay', ms: 5_000 } }]);
    const before = sim.tally().requests;
    const seen: string[] = [];
    const started = Date.now();
    const r = expectOk(await ask('Write the stalled helper', (d) => seen.push(d)));
    const elapsed = Date.now() - started;
    assert.equal(r.agentId, 'an');
    assert.match(seen.join(''), /^Simulated claude-haiku-4-5 reply: Write the stalled helper/);
    assert.equal(seen.join('').match(/Simulated/g)?.length, 1, 'one answer, never two interleaved');
    const sent = events.find((e) => e.type === 'hedge.sent');
    assert.ok(sent?.type === 'hedge.sent' && sent.delayMs === 200, `hedged after minDelayMs: ${JSON.stringify(sent)}`);
    assert.ok(elapsed < 2_000, `answered in ${elapsed} ms, not after the 5 s silence`);
    assert.deepEqual(
      r.attempts.map((a) => [a.agent, a.outcome, a.hedge ?? false, a.abortedBy ?? '']),
      [
        ['oa', 'CANCELLED', false, 'hedge'],
        ['an', 'ok', true, ''],
      ],
    );
    assert.ok(sent.agentId === 'oa' && sent.hedgeAgentId === 'an');
    assert.ok(events.some((e) => e.type === 'hedge.won' && e.agentId === 'an' && e.loserId === 'oa'));
    await sim.quiesce();
    assert.equal(sim.tally().requests - before, 2, 'two upstream requests');
    const primary = sim.requestLog(2).find((e) => e.provider === 'openai');
    assert.equal(primary?.aborted, true, 'the primary\'s connection was closed');
    const billed = orchestrator.ledger.recent(2).map((e) => e.agentId).sort();
    assert.deepEqual(billed, ['an', 'oa'], 'both calls are in the ledger');
    assert.ok(r.usage.inputTokens > 0 && r.costUsd > 0);
  });

  it('a slowdown of every agent: hedges stay within the burst and 3 %, the requests are not doubled', async () => {
    const { orchestrator } = buildOrchestrator('hedge-slow', hedged(), { keepEvents: false });
    const ask = (prompt: string): Promise<RunResult> => orchestrator.run({ messages: [userTurn(prompt)], task: 'code', stream: true, structured: false, onDelta: () => undefined });
    await warm(ask);
    sim.setLatency(400);
    const before = sim.tally().requests;
    const n = 60;
    const results: RunResult[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = next++; i < n; i = next++) results.push(await ask(`slow ${i}`));
      }),
    );
    await sim.quiesce();
    assert.ok(results.every((r) => r.ok));
    const hedges = results.flatMap((r) => r.attempts).filter((a) => a.hedge).length;
    assert.ok(hedges >= 1, 'the slow primary was hedged at all');
    assert.ok(hedges <= 3 + Math.floor(n * 0.03), `${hedges} hedges for ${n} requests`);
    // Every request reached the server once; a hedge adds at most one more, and only when it left
    // before the primary spoke — one aborted while its request was leaving may or may not arrive
    // (its elapsed time is counted from the send either way) — so the load is never doubled.
    const upstream = sim.tally().requests - before;
    assert.ok(upstream >= n && upstream <= n + hedges, `${upstream} upstream requests for ${n} requests and ${hedges} hedges`);
  });
});
