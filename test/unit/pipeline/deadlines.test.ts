// Deadlines for agents that go quiet (issue 18 §1–3, §6), on the fake clock: a silent primary is
// given up at its first-token deadline and the fallback answers at once; the last agent a request
// can try is never cut by a learned or cold-start deadline; a stream silent mid-answer ends with
// the agent and the silence named; deadlines learn from the agent's own answers; an agent out of
// credit is skipped until its key changes or its breaker is reset.
import assert from 'node:assert/strict';
import { MaofError } from '../../../src/core/errors';
import { runRoute } from '../../../src/core/pipeline/route';
import { LEARN_FLOOR_MS } from '../../../src/core/resilience/deadlines';
import { routeOf, stageConfig, stages, thrown, withTime, type Stages } from '../helpers/pipelineHarness';

const COLD_START_MS = 12_000;

function ask(s: Stages, req: Parameters<Stages['context']>[0] = {}) {
  const ctx = Object.assign(s.context(req), { task: 'code' });
  return { ctx, done: withTime(s.clock, runRoute(ctx, routeOf(s, 'code'))) };
}

describe('deadlines: agents that go quiet', () => {
  it('a primary that accepts and never answers is cut at the cold-start deadline (default 12 s); the fallback answers at once, the cut billed and counted as STALLED', async () => {
    const s = stages();
    s.provider.then({ hang: true }, { text: 'from b' });
    const started = s.clock.now();
    const { ctx, done } = ask(s);
    const r = await done;
    assert.equal(r.text, 'from b');
    assert.equal(s.clock.now() - started, COLD_START_MS);
    assert.deepEqual(ctx.attempts.map((a) => [a.agent, a.outcome]), [['a', 'STALLED'], ['b', 'ok']]);
    assert.equal(s.provider.requests[0].signal.aborted, true, 'the silent attempt was aborted upstream');
    assert.equal(s.services.breakers.get('a').snapshot().consecutiveFailures, 1);
    assert.equal(s.services.latency.snapshot('a')?.stalled, 1);
    // Billed like a cancel: the provider read the prompt.
    assert.ok(s.services.ledger.recent(5).some((e) => e.agentId === 'a' && e.usage.inputTokens > 0));
    assert.ok(s.events.some((e) => e.type === 'fallback' && e.reason === 'STALLED'));
  });

  it('a request that does not stream (--json, batch) is still streamed on the wire, so the deadline sees signs of life', async () => {
    const s = stages();
    s.provider.then({ hang: true, chunks: ['par', 'tial'] }, { text: 'from b' });
    const { ctx, done } = ask(s, { stream: false });
    const r = await done;
    assert.equal(r.text, 'from b');
    assert.equal(s.provider.requests[0].stream, true);
    // Silent after two chunks: the idle deadline (default 30 s) ends it, nothing reached the caller, so b answers.
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['STALLED', 'ok']);
  });

  it('never cuts the last agent the request can try by a cold-start or learned deadline: a lone agent silent 20 s still answers', async () => {
    const s = stages(stageConfig({ routes: { code: ['a'] } }));
    s.provider.then({ text: 'slow but here', silentMs: 20_000 });
    const { ctx, done } = ask(s, { stream: true, onDelta: () => undefined });
    const r = await done;
    assert.equal(r.text, 'slow but here');
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['ok']);
  });

  it('the same holds when the later agents cannot take the request (no key for them)', async () => {
    const s = stages(stageConfig(), { secrets: { 'provider:openai': 'sk-test-openai' } });
    s.provider.then({ text: 'slow but the only one with a key', silentMs: 20_000 });
    const { done } = ask(s);
    assert.equal((await done).text, 'slow but the only one with a key');
  });

  it("an agent's own firstTokenTimeoutMs cuts even the last agent; 0 turns the deadline off for a fallback-rich route", async () => {
    const strict = stages(stageConfig({ agents: [{ id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 100_000, firstTokenTimeoutMs: 5_000 }], routes: { code: ['a'] } }));
    strict.provider.then({ hang: true });
    const err = await thrown(ask(strict).done);
    assert.equal(err.code, 'STALLED');
    assert.match(err.message, /Agent "a" went silent for 5 s before its first token/);

    const patient = stages(stageConfig({ agents: [{ id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 100_000, firstTokenTimeoutMs: 0 }, { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000 }] }));
    patient.provider.then({ text: 'thought for 40 s', silentMs: 40_000 });
    assert.equal((await ask(patient).done).text, 'thought for 40 s');
  });

  it('maof.deadlines.enabled false turns the learned and default deadlines off', async () => {
    const s = stages(stageConfig({ deadlines: { enabled: false } }));
    s.provider.then({ text: 'late', silentMs: 30_000 });
    const { ctx, done } = ask(s);
    assert.equal((await done).text, 'late');
    assert.equal(s.provider.requests[0].stream, false, 'nothing to watch: the request goes as the caller asked');
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['ok']);
  });

  it('thinking counts as life: a model that reasons for 40 s, with signs of it, is not cut', async () => {
    const s = stages();
    s.provider.then({ text: 'after thinking', silentMs: 40_000, thinkingEveryMs: 5_000 });
    assert.equal((await ask(s).done).text, 'after thinking');
  });

  it('silent mid-answer after text reached the caller: ends with the agent and the silence named, no fallback, no repeated text', async () => {
    const s = stages();
    s.provider.then({ hang: true, chunks: ['Here is '] }, { text: 'from b' });
    const shown: string[] = [];
    const started = s.clock.now();
    const err = await thrown(ask(s, { stream: true, onDelta: (t) => shown.push(t) }).done);
    assert.equal(err.code, 'STALLED');
    assert.match(err.message, /Agent "a" went silent for 30 s in the middle of its answer, so the answer above is incomplete/);
    assert.equal(s.clock.now() - started, 30_000);
    assert.deepEqual(shown, ['Here is ']);
    assert.equal(s.provider.requests.length, 1, 'b was not asked');
  });

  it('learns the first-token deadline from the agent\'s own answers: 5 fast answers bring it down to the floor', async () => {
    const s = stages();
    for (let i = 0; i < 5; i++) {
      s.provider.then({ text: 'quick', silentMs: 500 });
      await ask(s).done;
    }
    assert.equal(s.services.latency.samples('a'), 5);
    s.provider.then({ hang: true }, { text: 'from b' });
    const started = s.clock.now();
    const { ctx, done } = ask(s);
    await done;
    assert.equal(s.clock.now() - started, LEARN_FLOOR_MS);
    assert.deepEqual(ctx.attempts.map((a) => a.outcome), ['STALLED', 'ok']);
  });
});

describe('out of credit', () => {
  const outOfCredit = (): MaofError => new MaofError('OUT_OF_CREDIT', 'OpenAI says the account behind agent "a"\'s API key is out of credit', { status: 429 });

  it('falls back at once, then skips the agent on later requests until its breaker is reset', async () => {
    const s = stages();
    s.provider.then({ error: outOfCredit() }, { text: 'from b' });
    const first = ask(s);
    assert.equal((await first.done).text, 'from b');
    assert.deepEqual(first.ctx.attempts.map((a) => a.outcome), ['OUT_OF_CREDIT', 'ok']);
    assert.equal(s.provider.requests.length, 2, 'no retry of an account without credit');

    s.provider.then({ text: 'from b again' });
    const second = ask(s);
    assert.equal((await second.done).text, 'from b again');
    assert.deepEqual(second.ctx.attempts.map((a) => [a.agent, a.outcome]), [['a', 'OUT_OF_CREDIT'], ['b', 'ok']]);
    assert.equal(s.provider.requests.length, 3, 'a was not asked again');
    assert.equal(s.provider.requests[2].agent.id, 'b');

    s.services.breakers.reset('a');
    s.provider.then({ text: 'a has credit again' });
    assert.equal((await ask(s).done).text, 'a has credit again');
  });

  it('a new key for the agent ends the skip', async () => {
    const s = stages();
    s.provider.then({ error: outOfCredit() }, { text: 'from b' });
    await ask(s).done;
    s.secrets.values['provider:openai'] = 'sk-a-new-key-with-credit';
    s.provider.then({ text: 'new key answers' });
    const next = ask(s);
    assert.equal((await next.done).text, 'new key answers');
    assert.equal(s.provider.requests[2].agent.id, 'a');
  });
});
