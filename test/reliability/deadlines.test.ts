// Issue 18 through the real SDKs over real HTTP against the simulator: agents that go quiet (no
// first token, silent after two chunks, message_start and pings but no content, silent a while and
// then live, slow but live) and accounts out of credit. One test runs with the default deadlines to
// show a dead server is given up within 15 s; the others set a short cold-start deadline to keep
// the suite quick (the rule under test is the same).
import assert from 'node:assert/strict';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { userTurn } from '../../src/core/types';
import { CountedSimulator, assertSanitised, buildOrchestrator, expectFail, expectOk, relConfig, scanResult } from './support/pipeline';

const SHORT = { deadlines: { firstTokenMs: 1_500, idleMs: 1_500 } };

describe('R-deadlines: agents that go quiet, and accounts out of credit', function () {
  this.timeout(40_000);
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

  it('defaults: a primary that accepts and never answers is given up within 15 s and the fallback answers, once', async () => {
    // Default deadlines, default retry policy, default agent timeoutMs.
    const { orchestrator } = buildOrchestrator('dl-default', relConfig(addr, { retry: {} }, { oa: { timeoutMs: 120_000 }, an: { timeoutMs: 120_000 } }));
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'hang' } }]);
    let shown = '';
    const started = Date.now();
    const r = expectOk(await orchestrator.run({ messages: [userTurn('hello')], task: 'code', stream: true, onDelta: (t) => (shown += t) }));
    const elapsed = Date.now() - started;
    assert.equal(r.agentId, 'an');
    assert.ok(elapsed >= 12_000 && elapsed <= 15_000, `answered after ${elapsed} ms`);
    assert.equal(shown, r.text, 'the answer shown once');
    assert.deepEqual(r.attempts.map((a) => [a.agent, a.outcome]), [['oa', 'STALLED'], ['an', 'ok']]);
    await sim.quiesce();
    assert.equal(sim.tally().aborted, 1, 'the silent request was aborted upstream');
  });

  for (const provider of ['openai', 'anthropic'] as const) {
    const [primary, fallback, task] = provider === 'openai' ? ['oa', 'an', 'code'] : ['an', 'oa', 'writing'];

    it(`${provider}: opening events and keep-alive pings but no content are no sign of life — cut at the first-token deadline`, async () => {
      const { orchestrator } = buildOrchestrator(`dl-ping-${provider}`, relConfig(addr, SHORT));
      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 0, pingEveryMs: 200 } }]);
      const started = Date.now();
      const r = expectOk(await orchestrator.run({ messages: [userTurn('hello')], task, stream: true, onDelta: () => undefined }));
      assert.equal(r.agentId, fallback);
      assert.ok(Date.now() - started < 5_000);
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['STALLED', 'ok']);
    });

    it(`${provider}: silent after two chunks, for a caller that wants the whole answer (--json, batch) → the fallback answers`, async () => {
      const { orchestrator } = buildOrchestrator(`dl-two-${provider}`, relConfig(addr, SHORT));
      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 2 } }]);
      const r = expectOk(await orchestrator.run({ messages: [userTurn('hello [[words:30]]')], task }));
      assert.equal(r.agentId, fallback);
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['STALLED', 'ok']);
      assert.ok(r.costUsd > 0, 'what the silent attempt streamed is billed, with the answer');
    });

    it(`${provider}: silent after two chunks that reached the caller → ends naming the agent and the silence, no repeated text`, async () => {
      const { orchestrator } = buildOrchestrator(`dl-shown-${provider}`, relConfig(addr, SHORT));
      sim.plan([{ match: { provider }, fault: { kind: 'silent_after', afterChunks: 2 } }]);
      let shown = '';
      let restarts = 0;
      const r = await orchestrator.run({ messages: [userTurn('hello [[words:30]]')], task, stream: true, onDelta: (t) => (shown += t), onRestart: () => restarts++ });
      scanResult(`dl-shown-${provider}`, r);
      const f = expectFail(r);
      assert.equal(f.error.code, 'STALLED');
      assert.match(f.error.message, new RegExp(`^Agent "${primary}" went silent for 2 s in the middle of its answer`));
      assertSanitised(f.error.message);
      assert.ok(shown.length > 0);
      assert.equal(restarts, 0);
      assert.equal(sim.requestsBy(provider === 'openai' ? 'anthropic' : 'openai'), 0, 'the fallback was not asked');
    });

    it(`${provider}: out of credit → falls back at once naming billing; the next request does not ask the agent again`, async () => {
      const { orchestrator } = buildOrchestrator(`dl-credit-${provider}`, relConfig(addr));
      sim.plan([{ match: { provider }, fault: { kind: 'out_of_credit' }, times: 5 }]);
      const first = expectOk(await orchestrator.run({ messages: [userTurn('hello')], task }));
      assert.equal(first.agentId, fallback);
      assert.deepEqual(first.attempts.map((a) => a.outcome), ['OUT_OF_CREDIT', 'ok']);
      assert.equal(sim.requestsBy(provider), 1, 'not retried');
      const second = expectOk(await orchestrator.run({ messages: [userTurn('hello again')], task }));
      assert.equal(second.agentId, fallback);
      assert.equal(sim.requestsBy(provider), 1, 'skipped, not asked again');
      // Alone on its route, the agent's failure names the fix.
      const alone = buildOrchestrator(`dl-credit-alone-${provider}`, relConfig(addr, { routes: { code: [primary], writing: [primary] } })).orchestrator;
      const f = expectFail(await alone.run({ messages: [userTurn('hello')], task }));
      assert.equal(f.error.code, 'OUT_OF_CREDIT');
      assert.match(f.error.message, /out of credit.*billing/);
      assertSanitised(f.error.message);
    });
  }

  it('the only agent, silent 3 s before a live answer, is not cut by the (short) cold-start deadline', async () => {
    const { orchestrator } = buildOrchestrator('dl-only', relConfig(addr, { ...SHORT, routes: { code: ['oa'] } }));
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'delay', ms: 3_000 } }]);
    const r = expectOk(await orchestrator.run({ messages: [userTurn('hello')], task: 'code', stream: true, onDelta: () => undefined }));
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['ok']);
  });

  it('a slow but live stream (a chunk every 400 ms, longer than the 1.5 s first-token deadline in all) is neither cut nor retried', async () => {
    const { orchestrator } = buildOrchestrator('dl-slow', relConfig(addr, SHORT));
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'slow_stream', chunkDelayMs: 400 } }]);
    const started = Date.now();
    const r = expectOk(await orchestrator.run({ messages: [userTurn('hello [[words:8]]')], task: 'code', stream: true, onDelta: () => undefined }));
    assert.equal(r.agentId, 'oa');
    assert.ok(Date.now() - started > 1_500, 'the stream outlasted the first-token deadline');
    assert.deepEqual(r.attempts.map((a) => a.outcome), ['ok']);
    const report = orchestrator.latencyReport().find((a) => a.agentId === 'oa');
    assert.equal(report?.samples, 1);
    assert.ok((report?.ttftP50Ms ?? Infinity) < 1_000);
  });
});
