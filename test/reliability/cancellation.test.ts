// R7: cancelling a request closes the upstream connection (the simulator sees it aborted), holds
// nothing of the budget afterwards — a call cancelled at the provider is billed with an estimate of
// what it read and streamed, one cancelled while waiting is not billed — and is final: no retry and
// no fallback afterwards — mid-stream, before the headers, during a retry wait, in the middle of a
// batch, and by Ctrl-C on the built CLI.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseBatch, runBatch } from '../../src/cli/batch';
import type { RunResult } from '../../src/core/orchestrator';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { bump, record, tempDir } from './support/runContext';
import { CountedSimulator, buildOrchestrator, expectFail, relConfig, scanResult, sleep } from './support/pipeline';
import { cliBinary, cliEnv, runCli, writeCliConfig } from './support/cli';
import { userTurn } from '../../src/core/types';

describe('R7 cancellation: upstream closed, nothing held, in-flight calls billed, nothing sent afterwards', function () {
  this.timeout(30_000);
  const sim = new CountedSimulator();
  let addr: SimulatorAddress;
  let cases = 0;

  before(async () => {
    addr = await sim.start();
  });
  after(async () => {
    await sim.stop();
    record('R7', { cases });
  });
  beforeEach(async () => {
    await sim.quiesce();
    sim.reset();
    cases++;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'passed') bump('R7', 'passed');
  });

  const budgeted = () => relConfig(addr, { budget: { monthlyUsd: 5 } });

  /** Nothing more reaches the simulator for a while after the cancel. */
  async function assertQuietAfter(requests: number): Promise<void> {
    await sim.quiesce();
    await sleep(300);
    assert.equal(sim.tally().requests, requests, 'no retry or fallback after the cancel');
  }

  for (const [provider, task] of [
    ['openai', 'code'],
    ['anthropic', 'writing'],
  ] as const) {
    it(`${provider}: abort mid-stream`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'slow_stream', chunkDelayMs: 150 } }]);
      const { orchestrator } = buildOrchestrator(`r7-stream-${provider}`, budgeted());
      const controller = new AbortController();
      let shown = '';
      let reservedDuring = 0;
      const r = expectFail(
        await orchestrator.run({
          messages: [userTurn('write a long parser [[words:200]]')],
          task,
          stream: true,
          signal: controller.signal,
          onDelta: (t) => {
            shown += t;
            reservedDuring = orchestrator.ledger.summary().reservedUsd;
            controller.abort();
          },
        }),
      );
      scanResult(`r7-stream-${provider}`, r);
      assert.equal(r.error.code, 'CANCELLED');
      assert.equal(r.error.message, 'Request cancelled.');
      assert.ok(shown.length > 0 && shown.length < 200, 'the answer was cut short');
      assert.ok(reservedDuring > 0, 'the worst case was held while streaming');
      assert.deepEqual(
        r.attempts.map((a) => a.outcome),
        ['CANCELLED'],
      );
      const spend = orchestrator.ledger.summary();
      assert.equal(spend.reservedUsd, 0, 'the worst case is no longer held');
      // What the provider read and streamed before the cancel is billed (estimated), not dropped.
      assert.ok(spend.monthUsd > 0, 'the cancelled call is billed');
      assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens >= Math.ceil(shown.length / 4), `usage covers what was shown: ${JSON.stringify(r.usage)}`);
      assert.equal(r.costUsd, spend.monthUsd, 'the result and the ledger agree');
      await assertQuietAfter(1);
      assert.equal(sim.tally().aborted, 1, 'the simulator saw the connection closed');
    });

    it(`${provider}: abort before the response headers`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'hang' } }]);
      const { orchestrator } = buildOrchestrator(`r7-hang-${provider}`, budgeted());
      const controller = new AbortController();
      orchestrator.events.onType('attempt', () => setTimeout(() => controller.abort(), 100));
      const r = expectFail(await orchestrator.run({ messages: [userTurn('implement a stack')], task, signal: controller.signal }));
      scanResult(`r7-hang-${provider}`, r);
      assert.equal(r.error.code, 'CANCELLED');
      assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
      assert.equal(r.usage.outputTokens, 0, 'nothing was streamed');
      assert.ok(r.usage.inputTokens > 0 && r.costUsd > 0, 'the prompt the provider received is billed');
      await assertQuietAfter(1);
      assert.equal(sim.tally().aborted, 1);
    });

    it(`${provider}: abort while waiting to retry after a 429`, async () => {
      sim.plan([{ match: { provider }, fault: { kind: 'rate_limit', retryAfterMs: 1_500 } }]);
      const { orchestrator } = buildOrchestrator(`r7-wait-${provider}`, budgeted());
      const controller = new AbortController();
      let reservedWhileWaiting = 0;
      let scheduledAt = 0;
      let waitMs = 0;
      // A 429 within the retry-after cap is a pause of the key, announced as a wait with its end.
      orchestrator.events.onType('waiting', (e) => {
        if (e.reason !== 'rate-limit' || scheduledAt > 0) return;
        scheduledAt = Date.now();
        waitMs = e.until - e.at;
        setTimeout(() => {
          reservedWhileWaiting = orchestrator.ledger.summary().reservedUsd;
          controller.abort();
        }, 100);
      });
      const r = expectFail(await orchestrator.run({ messages: [userTurn('implement a queue')], task, signal: controller.signal }));
      const endedAfter = Date.now() - scheduledAt;
      scanResult(`r7-wait-${provider}`, r);
      assert.equal(waitMs, 1_500, 'the retry-after was honoured');
      assert.equal(r.error.code, 'CANCELLED');
      assert.ok(endedAfter < waitMs, 'the wait was cut short, not sat out');
      assert.ok(reservedWhileWaiting > 0, 'the reservation was held during the wait');
      assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
      assert.equal(orchestrator.ledger.summary().monthUsd, 0, 'a request the provider refused is not billed');
      // Past the moment the retry was due: still only the first request.
      await sleep(waitMs - endedAfter + 100);
      await assertQuietAfter(1);
    });
  }

  it('abort in the middle of a batch: every request accounted for, none sent after the abort, $0 held', async () => {
    sim.setLatency(30);
    const { orchestrator } = buildOrchestrator('r7-batch', budgeted());
    const controller = new AbortController();
    const items = parseBatch(Array.from({ length: 200 }, (_, i) => JSON.stringify({ prompt: `req-${i}`, task: 'code' })).join('\n'));
    let attempts = 0;
    let attemptsAfterAbort = 0;
    orchestrator.events.onType('attempt', () => (controller.signal.aborted ? attemptsAfterAbort++ : attempts++));
    let reported = 0;
    const results: RunResult[] = await runBatch(orchestrator, items, {
      concurrency: 8,
      signal: controller.signal,
      onResult: (_index, result) => {
        reported++;
        if (reported === 40) controller.abort();
        scanResult('r7-batch', result);
      },
    });
    sim.setLatency(0);
    assert.equal(results.length, 200);
    assert.equal(reported, 200, 'every request reported');
    const ok = results.filter((r) => r.ok).length;
    const cancelled = results.filter((r) => !r.ok && r.error.code === 'CANCELLED').length;
    assert.equal(ok + cancelled, 200, 'each request either answered or cancelled');
    assert.ok(ok >= 40 && cancelled >= 150, `${ok} answered, ${cancelled} cancelled`);
    await sim.quiesce();
    assert.equal(attemptsAfterAbort, 0, 'no attempt started after the abort');
    assert.ok(sim.tally().requests <= attempts, 'the simulator saw only requests started before it');
    // A response the simulator finished just as the abort fired is dropped as CANCELLED; it can
    // only be one of the 8 in flight, and like every call cancelled at the provider it is billed
    // with an estimate.
    const raced = sim.tally().succeeded - ok;
    assert.ok(raced >= 0 && raced <= 8, `answers completed upstream but cancelled locally: ${raced}`);
    assert.equal(sim.tally().succeeded + sim.tally().aborted, sim.tally().requests - sim.tally().faulted);
    const billedCancels = results.filter((r) => !r.ok && r.costUsd > 0).length;
    assert.ok(billedCancels <= 8, `only calls in flight at the abort are billed: ${billedCancels}`);
    record('R7', { batchCancelledInFlight: billedCancels, batchRacedAnswers: raced });
    assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
    assert.equal(orchestrator.ledger.summary().requests, ok + billedCancels, 'answers and calls cancelled at the provider were billed, nothing else');
  });

  it('Ctrl-C on the built CLI while it streams: exit 1, "cancelled", the upstream connection closed', async function () {
    this.timeout(60_000);
    cliBinary();
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'slow_stream', chunkDelayMs: 200 } }]);
    const dir = tempDir('r7-cli');
    const config = writeCliConfig(path.join(dir, 'config.json'), relConfig(addr));
    let interrupted = false;
    // stdout is a pipe, which gets only the final answer: watch the simulator for the stream instead.
    const r = await runCli('r7-cli', ['ask', '--task', 'code', '--config', config, 'write a long parser [[words:300]]'], cliEnv(dir), {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (sim.tally().requests < 1) return;
          clearInterval(poll);
          // A few of the 200 ms chunks have gone out by then.
          setTimeout(() => {
            interrupted = true;
            child.kill('SIGINT');
          }, 500);
        }, 20);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.ok(interrupted, 'the answer had started streaming');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /maof: Request cancelled\. \[CANCELLED\]/);
    await assertQuietAfter(1);
    assert.equal(sim.tally().aborted, 1, 'the simulator saw the connection closed');
  });
});
