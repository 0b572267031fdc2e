// retry.maxTotalMs bounds the whole request, a slow attempt included: behind a gateway that retries
// on its own, one MAOF attempt can take as long as several; it is cut off at the request's deadline
// and reports its real elapsed time.
import assert from 'node:assert/strict';
import { assertSanitised, makeOrchestrator, simConfig, simulatorPerSuite } from '../helpers/orchestratorHarness';
import { userTurn } from '../../../src/core/types';

describe('retry.maxTotalMs bounds a slow attempt (a gateway retrying on its own)', function () {
  this.timeout(20_000);
  const { sim, addr } = simulatorPerSuite();

  const MAX_TOTAL_MS = 400;
  const config = (): ReturnType<typeof simConfig> => simConfig(addr(), { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: MAX_TOTAL_MS, maxRetryAfterMs: 1_000 } });

  for (const stream of [false, true]) {
    it(`${stream ? 'a stream that keeps dripping' : 'an answer that takes 4 s'} is cut off at maxTotalMs, with its elapsed time, and no fallback starts after it`, async () => {
      sim.plan([{ match: { provider: 'openai' }, fault: stream ? { kind: 'slow_stream', chunkDelayMs: 100 } : { kind: 'delay', ms: 4_000 } }]);
      const { orchestrator } = makeOrchestrator(config());
      const r = await orchestrator.run({ messages: [userTurn('implement a queue [[words:80]]')], task: 'code', stream, onDelta: () => undefined });
      assert.equal(r.ok, false, 'the request did not outlive maxTotalMs');
      if (r.ok) return;
      assert.equal(r.error.code, 'TIMEOUT');
      assert.match(r.error.message, /maxTotalMs/);
      assert.match(r.error.message, /"oa"/);
      assertSanitised(r.error.message);
      assert.ok(r.durationMs >= MAX_TOTAL_MS && r.durationMs < MAX_TOTAL_MS + 600, `took ${r.durationMs} ms`);
      assert.equal(r.attempts.length, 1, `one attempt, no retry and no fallback: ${JSON.stringify(r.attempts)}`);
      const [attempt] = r.attempts;
      assert.equal(attempt.outcome, 'TIMEOUT');
      assert.ok(attempt.elapsedMs !== undefined && attempt.elapsedMs >= MAX_TOTAL_MS - 50 && attempt.elapsedMs < MAX_TOTAL_MS + 600, `elapsed ${attempt.elapsedMs}`);
      assert.equal(sim.tally().requests, 1, 'the fallback agent was not called after the time ran out');
      // Running out of the request's own time says nothing about the agent's health.
      assert.equal(orchestrator.breakers.get('oa').snapshot().consecutiveFailures, 0);
    });
  }

  it('a slow failed attempt counts against maxTotalMs: the retry it leaves no room for is not made', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'hang' } }]);
    const { orchestrator, events } = makeOrchestrator(
      simConfig(addr(), {
        agents: [{ id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr().openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, timeoutMs: 300, requiresKey: true }],
        routes: { code: ['oa'] },
        retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 200, maxTotalMs: MAX_TOTAL_MS, maxRetryAfterMs: 1_000, jitter: 0 },
      }),
    );
    const r = await orchestrator.run({ messages: [userTurn('implement a stack')], task: 'code' });
    assert.equal(r.ok, false);
    assert.equal(r.attempts.length, 1, 'a 300 ms attempt plus a 200 ms wait would end past 400 ms');
    assert.ok((r.attempts[0].elapsedMs ?? 0) >= 250, `elapsed ${r.attempts[0].elapsedMs}`);
    assert.equal(events.filter((e) => e.type === 'retry.scheduled').length, 0);
  });
});
