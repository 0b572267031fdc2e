// R8: a request waits instead of failing (issues 10 §1 and 14). A storm of 429s at the provider is
// waited out by a whole batch, not turned into an outage by the circuit breaker; and a batch whose
// worst cases do not fit together, but whose real costs fill only half the budget, is answered in
// full by waiting for reservations in flight to settle — never spending past the limit.
import assert from 'node:assert/strict';
import { runBatch, type BatchItem } from '../../src/cli/batch';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliEnv, jsonLines, runCliInProcess, writeCliConfig } from './support/cli';
import { record, tempDir } from './support/runContext';
import { CountedSimulator, buildOrchestrator, expectOk, relConfig } from './support/pipeline';
import { userTurn } from '../../src/core/types';

describe('R8 waits: a rate-limit storm and a busy budget are waited out', function () {
  this.timeout(60_000);
  const sim = new CountedSimulator();
  let addr: SimulatorAddress;

  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    await sim.quiesce();
    sim.reset();
  });

  it('a batch of 200 at concurrency 16 through 20 consecutive 429s (retry-after 300 ms) is answered in full; the breaker stays closed', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterMs: 300 }, times: 20 }]);
    // The README's shape: the route's fallback is on the same (stormed) provider, so falling back does not help.
    const config = relConfig(addr, { routes: { code: ['oa'] } });
    const { orchestrator, events } = buildOrchestrator('r8-storm', config);
    const items: BatchItem[] = Array.from({ length: 200 }, (_, i) => ({ ok: true, prompt: `storm ${i} implement it [[words:8]]`, task: 'code' }));
    const results = await runBatch(orchestrator, items, { concurrency: 16, onResult: () => undefined });
    const failed = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code));
    assert.deepEqual(failed, [], 'every prompt was answered (before: 200 × CIRCUIT_OPEN)');
    const breaker = orchestrator.breakers.get('oa').snapshot();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.opens, 0, 'the storm never opened the breaker');
    const waits = events.filter((e) => e.type === 'waiting');
    assert.ok(waits.length > 0 && waits.every((e) => e.type === 'waiting' && e.reason === 'rate-limit' && e.agentId === 'oa'), 'the waits were shown as rate-limit pauses of oa');
    // One shared pause: the 16 requests in flight did not each hammer the provider after it.
    assert.ok(sim.tally().requests <= 200 + 20, `upstream requests ${sim.tally().requests}: only the 20 storm answers were extra`);
    record('R8', { stormAnswered: results.filter((r) => r.ok).length, stormUpstream: sim.tally().requests });
  });

  it('maof batch --json through a storm: every line an answer on stdout, the wait reported once per pause on stderr, exit 0', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'rate_limit', retryAfterMs: 300 }, times: 20 }]);
    const dir = tempDir('r8-cli');
    const config = writeCliConfig(path.join(dir, 'config.json'), relConfig(addr, { routes: { code: ['oa'] } }));
    const batch = path.join(dir, 'prompts.jsonl');
    writeFileSync(batch, Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `cli storm ${i} [[words:6]]`, task: 'code' })).join('\n'));
    const r = await runCliInProcess('r8-cli', ['batch', batch, '--json', '--concurrency', '16', '--config', config], cliEnv(dir));
    const lines = jsonLines(r.stdout);
    assert.equal(lines.length, 40, 'stdout is the 40 JSON lines and nothing else');
    assert.deepEqual(lines.filter((l) => l.ok !== true).map((l) => JSON.stringify(l.error)), []);
    assert.equal(r.code, 0);
    const waits = r.stderr.split('\n').filter((l) => l.startsWith('[maof] waiting'));
    assert.ok(waits.length >= 1, `the wait was reported on stderr: ${r.stderr}`);
    assert.ok(waits.length < 16, `once per shared pause, not once per request (${waits.length} lines)`);
    assert.match(waits[0], /^\[maof\] waiting up to 1 s for the provider's rate limit \(oa\)…$/);
  });

  it('64 requests at once against a budget their real costs fill to about half: all 64 answered, never over the limit', async () => {
    const pricing = { inputPerMTok: 3, outputPerMTok: 15 };
    const agents = { oa: { pricing, maxOutputTokens: 1_000 }, an: { pricing, maxOutputTokens: 1_000 } };
    const prompt = (i: number): string => `budget ${i} write a short helper [[words:30]]`;
    // One request's real cost, from a run without a budget.
    const probe = buildOrchestrator('r8-probe', relConfig(addr, { routes: { code: ['oa'] } }, agents));
    const real = expectOk(await probe.orchestrator.run({ messages: [userTurn(prompt(0))], task: 'code' })).costUsd;
    await sim.quiesce();
    sim.reset();
    sim.setLatency(50);
    const limit = Math.round(real * 64 * 2 * 1e9) / 1e9;
    const { orchestrator, events } = buildOrchestrator('r8-budget', relConfig(addr, { routes: { code: ['oa'] }, budget: { monthlyUsd: limit } }, agents));
    let overshoot = 0;
    orchestrator.events.on(() => {
      const s = orchestrator.ledger.summary();
      overshoot = Math.max(overshoot, s.monthUsd + s.reservedUsd - limit);
    });
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => orchestrator.run({ messages: [userTurn(prompt(i))], task: 'code' })));
    sim.setLatency(0);
    const failed = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : `${r.error.code}: ${r.error.message}`));
    assert.deepEqual(failed, [], 'all 64 answered (before: most refused with BUDGET_EXCEEDED)');
    const s = orchestrator.ledger.summary();
    assert.ok(overshoot <= 0, `spend plus reservations never passed the limit (overshoot $${overshoot})`);
    assert.ok(s.monthUsd <= limit && s.monthUsd > limit * 0.4, `real costs filled about half the budget ($${s.monthUsd} of $${limit})`);
    assert.equal(s.reservedUsd, 0);
    assert.ok(events.some((e) => e.type === 'waiting' && e.reason === 'budget'), 'the wait was shown as waiting for budget');
    record('R8', { budgetAnswered: results.filter((r) => r.ok).length, budgetLimitUsd: limit, budgetSpentUsd: s.monthUsd });
  });
});
