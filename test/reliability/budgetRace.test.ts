// R3: 64 requests start together against a monthly budget that affords exactly 10 worst-case
// reservations, while the simulator is slow enough that all of them are in flight at once, and
// every answer runs to maxOutputTokens so that real costs do exhaust the budget. The other 54 wait
// for the 10 to settle (issue 14) and are then refused, because settled spend plus their own
// worst case no longer fits. Spend (and spend + held reservations) must never exceed the limit,
// exactly 54 must be refused with BUDGET_EXCEEDED before anything is sent, and the simulator must
// see exactly 10 requests.
import assert from 'node:assert/strict';
import { worstCaseCost } from '../../src/core/cost/costCalculator';
import { pricingFor } from '../../src/core/config/schema';
import type { Reservation } from '../../src/core/cost/costLedger';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { record } from './support/runContext';
import { CountedSimulator, assertSanitised, buildOrchestrator, expectOk, relConfig, scanResult, scanStore } from './support/pipeline';
import { userTurn } from '../../src/core/types';

const REQUESTS = 64;
const AFFORDABLE = 10;
const PRICING = { inputPerMTok: 3, outputPerMTok: 15 };
const MAX_OUTPUT = 1_000;
// Asks for more words than maxOutputTokens allows: each answer is cut there, costing its worst case.
const PROMPT = 'Write a function that merges two sorted arrays [[words:3000]]';

describe('R3 budget race: 64 concurrent requests, a budget that affords 10', function () {
  this.timeout(30_000);
  const sim = new CountedSimulator();
  let addr: SimulatorAddress;

  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());

  const config = (monthlyUsd?: number) =>
    relConfig(
      addr,
      { budget: monthlyUsd === undefined ? {} : { monthlyUsd, alertAt: [0.8] }, routes: { code: ['oa', 'an'] } },
      { oa: { pricing: PRICING, maxOutputTokens: MAX_OUTPUT }, an: { pricing: PRICING, maxOutputTokens: MAX_OUTPUT } },
    );

  it('spends at most the limit, refuses exactly 54 before sending, and sends exactly 10', async () => {
    // The worst case one request reserves: the prompt's input-token estimate (as the core counts
    // it) at the input price plus the whole output allowance at the output price. Read from the
    // ledger of a probe run, then checked against the agent's pricing and maxOutputTokens.
    sim.reset();
    const probe = buildOrchestrator('r3-probe', config());
    const reserved: number[] = [];
    const reserve = probe.orchestrator.ledger.tryReserve.bind(probe.orchestrator.ledger);
    probe.orchestrator.ledger.tryReserve = (amountUsd: number): Reservation | undefined => {
      reserved.push(amountUsd);
      return reserve(amountUsd);
    };
    expectOk(await probe.orchestrator.run({ messages: [userTurn(PROMPT)], task: 'code' }));
    assert.equal(reserved.length, 1);
    const worst = reserved[0];
    const agent = probe.orchestrator.currentConfig.agents.find((a) => a.id === 'oa')!;
    const inputTokens = Math.round(((worst - (MAX_OUTPUT * PRICING.outputPerMTok) / 1e6) * 1e6) / PRICING.inputPerMTok);
    assert.ok(inputTokens > PROMPT.length / 8, `a plausible input estimate (${inputTokens} tokens)`);
    assert.equal(worstCaseCost(inputTokens, MAX_OUTPUT, pricingFor(agent)), worst, 'worst case = input estimate × input price + maxOutputTokens × output price');

    // 10 fit and 11 do not.
    const limit = Math.round(worst * (AFFORDABLE + 0.5) * 1e9) / 1e9;
    assert.ok(AFFORDABLE * worst <= limit && (AFFORDABLE + 1) * worst > limit);

    await sim.quiesce();
    sim.reset();
    // Slow enough that every request is reserved and in flight before the first one settles.
    sim.setLatency(1_500);
    const { orchestrator, store, events } = buildOrchestrator('r3-race', config(limit));
    let inFlight = 0;
    let maxInFlight = 0;
    let overshoot = 0;
    const check = (): void => {
      const s = orchestrator.ledger.summary();
      overshoot = Math.max(overshoot, s.monthUsd - limit, s.monthUsd + s.reservedUsd - limit);
    };
    orchestrator.events.on((e) => {
      if (e.type === 'attempt') maxInFlight = Math.max(maxInFlight, ++inFlight);
      if (e.type === 'usage') inFlight--;
      check();
    });
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => {
        const p = orchestrator.run({ messages: [userTurn(PROMPT)], task: 'code', requestId: `race-${i}` });
        check();
        return p;
      }),
    );
    await sim.quiesce();
    results.forEach((r, i) => scanResult(`r3-${i}`, r));
    await scanStore('r3', orchestrator, store);

    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok && r.error.code === 'BUDGET_EXCEEDED');
    assert.equal(ok.length, AFFORDABLE, 'exactly the affordable requests were answered');
    assert.equal(refused.length, REQUESTS - AFFORDABLE, 'the other 54 were refused with BUDGET_EXCEEDED');
    assert.equal(maxInFlight, AFFORDABLE, 'the affordable requests were all in flight together');
    for (const r of refused) {
      if (r.ok) continue;
      assert.deepEqual(r.attempts, [], 'refused before anything was sent (no attempt, no fallback)');
      assert.match(r.error.message, /maof\.budget\.monthlyUsd/, 'the message names the setting to raise');
      assertSanitised(r.error.message);
      assert.equal(r.costUsd, 0);
    }
    assert.equal(sim.tally().requests, AFFORDABLE, 'the simulator saw exactly 10 requests');
    assert.equal(sim.requestsBy('anthropic'), 0, 'no refused request fell back to another agent');

    const s = orchestrator.ledger.summary();
    check();
    assert.equal(overshoot <= 0, true, `spend never exceeded the limit (overshoot $${overshoot})`);
    assert.ok(s.monthUsd <= limit);
    assert.equal(s.reservedUsd, 0, 'every reservation was settled or released');
    assert.equal(s.requests, AFFORDABLE);
    // Settling released the unused part of each worst case: the real spend is what the simulator billed.
    assert.ok(s.monthUsd < AFFORDABLE * worst);
    assert.equal(events.filter((e) => e.type === 'usage').length, AFFORDABLE);

    record('R3', { requests: REQUESTS, sent: sim.tally().requests, answered: ok.length, refused: refused.length, limitUsd: limit, worstCaseUsd: worst, spentUsd: s.monthUsd, overshootUsd: Math.max(0, overshoot) });
    sim.setLatency(0);
  });
});
