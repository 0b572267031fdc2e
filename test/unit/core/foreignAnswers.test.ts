// What servers we did not write really answer, through the whole pipeline (real SDKs, real HTTP,
// the simulator's fault kinds): a model the endpoint does not know, errors inside a stream, answers
// without text, answers without usage, and keyless agents in both wire formats.
import assert from 'node:assert/strict';
import type { Fault } from '../../../src/simulator/providerSimulator';
import { assertSanitised, expectOk, makeOrchestrator, simConfig, simulatorPerSuite } from '../helpers/orchestratorHarness';
import type { ErrorCode } from '../../../src/core/errors';
import { userTurn } from '../../../src/core/types';

const ok = expectOk;

describe('Foreign answers through the orchestrator', function () {
  this.timeout(20_000);
  const { sim, addr } = simulatorPerSuite();

  it('a model the endpoint does not know goes to the next agent, naming agent, model and endpoint kind', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'model_not_found' }, times: 5 }]);
    const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
    const r = ok(await orchestrator.run({ messages: [userTurn('implement a queue')], task: 'code' }));
    assert.equal(r.agentId, 'an');
    assert.deepEqual(r.attempts.map(({ elapsedMs: _e, ...a }) => a), [{ agent: 'oa', outcome: 'CONFIG', status: 404 }, { agent: 'an', outcome: 'ok' }]);
    assert.equal(orchestrator.breakers.get('oa').state, 'closed');
    assert.ok(events.some((e) => e.type === 'fallback' && e.reason === 'CONFIG'));

    const pinned = await orchestrator.run({ messages: [userTurn('implement a queue')], agentId: 'oa' });
    assert.ok(!pinned.ok);
    assert.equal(pinned.error.code, 'CONFIG');
    assert.equal(pinned.error.message, 'The OpenAI-compatible server of agent "oa" does not know model "gpt-4.1-mini" — check the agent\'s model setting (the server lists the models it serves).');
    assertSanitised(pinned.error.message);
  });

  const inStream: Array<[string, Fault, ErrorCode, 'fallback' | 'retry']> = [
    ['invalid_api_key', { kind: 'stream_error', error: 'invalid_api_key' }, 'AUTH', 'fallback'],
    ['overloaded', { kind: 'stream_error', error: 'overloaded' }, 'OVERLOADED', 'retry'],
    ['rate limit', { kind: 'stream_error', error: 'rate_limit' }, 'RATE_LIMITED', 'retry'],
  ];
  for (const provider of ['openai', 'anthropic'] as const) {
    for (const [name, fault, code, then] of inStream) {
      it(`an in-stream ${name} from ${provider} is ${code} and is handled as one (${then})`, async () => {
        sim.plan([{ match: { provider }, fault }]);
        const { orchestrator } = makeOrchestrator(simConfig(addr()));
        const restarts: string[] = [];
        const r = ok(await orchestrator.run({ messages: [userTurn('write a parser')], task: provider === 'openai' ? 'code' : 'analysis', structured: false, stream: true, onDelta: () => undefined, onRestart: (a) => restarts.push(a) }));
        const first = provider === 'openai' ? 'oa' : 'an';
        const other = provider === 'openai' ? 'an' : 'oa';
        assert.equal(r.attempts[0]?.outcome, code);
        assert.equal(r.agentId, then === 'fallback' ? other : first);
        assert.deepEqual(restarts, [r.agentId], 'the partial answer of the failed attempt is discarded');
      });
    }
  }

  for (const provider of ['openai', 'anthropic'] as const) {
    for (const reason of ['empty', 'filtered', 'refused'] as const) {
      for (const stream of [false, true]) {
        it(`an answer without text (${reason}, ${provider}${stream ? ', streamed' : ''}) is not a success: it falls back`, async () => {
          sim.plan([{ match: { provider }, fault: { kind: 'empty_answer', reason } }]);
          const { orchestrator } = makeOrchestrator(simConfig(addr()));
          const first = provider === 'openai' ? 'oa' : 'an';
          const r = ok(await orchestrator.run({ messages: [userTurn('summarise this')], agentId: undefined, task: provider === 'openai' ? 'code' : 'analysis', structured: false, stream, onDelta: () => undefined }));
          assert.notEqual(r.agentId, first);
          assert.ok(r.text.length > 0);
          assert.equal(r.attempts[0]?.agent, first);
          assert.equal(r.attempts[0]?.outcome, 'INVALID_OUTPUT');
        });
      }
      it(`with no agent left, an answer without text (${reason}, ${provider}) fails naming the reason`, async () => {
        sim.plan([{ match: { provider }, fault: { kind: 'empty_answer', reason } }]);
        const { orchestrator } = makeOrchestrator(simConfig(addr()));
        const agentId = provider === 'openai' ? 'oa' : 'an';
        const r = await orchestrator.run({ messages: [userTurn('summarise this')], agentId, structured: false });
        assert.ok(!r.ok, 'not ok:true with an empty text');
        assert.equal(r.error.code, 'INVALID_OUTPUT');
        const word = reason === 'empty' || (provider === 'anthropic' && reason === 'filtered') ? (reason === 'empty' ? 'empty' : 'refused') : reason;
        assert.ok(r.error.message.includes(`(${word})`) || r.error.message.includes('(no text)'), r.error.message);
        assert.ok(r.error.message.includes(`"${agentId}"`), r.error.message);
      });
    }
  }

  for (const provider of ['openai', 'anthropic'] as const) {
    for (const stream of [false, true]) {
      it(`no usage from ${provider}${stream ? ' (streamed)' : ''}: the cost is counted with the tokenizer and marked estimated`, async () => {
        sim.plan([{ match: { provider }, fault: { kind: 'no_usage' } }]);
        const { orchestrator, events } = makeOrchestrator(simConfig(addr()));
        const agentId = provider === 'openai' ? 'oa' : 'an';
        const r = ok(await orchestrator.run({ messages: [userTurn('explain closures [[words:30]]')], agentId, structured: false, stream, onDelta: () => undefined }));
        assert.equal(r.usageEstimated, true);
        assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 20, JSON.stringify(r.usage));
        assert.ok(r.costUsd > 0);
        const usage = events.find((e) => e.type === 'usage');
        assert.ok(usage && usage.type === 'usage' && usage.estimated === true);
        const billed = ok(await orchestrator.run({ messages: [userTurn('explain closures again')], agentId, structured: false, stream, onDelta: () => undefined }));
        assert.equal(billed.usageEstimated, undefined);
      });
    }
  }

  for (const stream of [false, true]) {
    it(`README's keyless Anthropic-format agent ("deep", requiresKey false) answers with no key set${stream ? ', streamed' : ''}`, async () => {
      const config = simConfig(addr(), {
        agents: [{ id: 'deep', provider: 'anthropic', model: 'claude-sonnet-5-5', baseUrl: addr().anthropicBaseUrl, contextWindow: 1_000_000, requiresKey: false }],
        routes: { code: ['deep'], writing: ['deep'], analysis: ['deep'] },
      });
      const { orchestrator } = makeOrchestrator(config, { secrets: {} });
      const r = ok(await orchestrator.run({ messages: [userTurn('implement a stack')], task: 'writing', stream, onDelta: () => undefined }));
      assert.equal(r.agentId, 'deep');
      assert.match(r.text, /Simulated claude-sonnet-5-5 reply/);
    });
  }
});
