// The core service the host asks (src/core/maofCore.ts) over a real orchestrator and the provider
// simulator: requests, the last-requests trail with why each agent answered, spend, breakers and
// conversation memory, all through the one door.
import assert from 'node:assert/strict';
import { createMaofCore } from '../../../src/core/maofCore';
import { trail, whyWords } from '../../../src/core/requestLog';
import { userTurn } from '../../../src/core/types';
import { ProviderSimulator } from '../../../src/simulator/providerSimulator';
import { makeOrchestrator, simConfig, simulatorPerSuite } from '../helpers/orchestratorHarness';

describe('MaofCore: the one door into the core', function () {
  this.timeout(20_000);
  const { sim, addr } = simulatorPerSuite();

  it('remembers which agent answered each request, why, and what it cost', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 401 }, times: 5 }]);
    const core = createMaofCore(makeOrchestrator(simConfig(addr())).orchestrator);
    const result = await core.run({ messages: [userTurn('implement a queue')], task: 'code', source: 'VS Code Chat' });
    assert.ok(result.ok);
    const [last] = core.recentRequests();
    assert.equal(last.source, 'VS Code Chat');
    assert.equal(last.agentId, 'an');
    assert.deepEqual(last.route, ['oa', 'an']);
    assert.equal(last.costUsd, result.costUsd);
    assert.ok(last.costUsd > 0);
    assert.match(whyWords(last), /^fallback #1 of the code route, after oa: .*401/);
    assert.match(trail(last), /^oa: .* \(401\) → an: answered$/);
  });

  it('says the primary answered, and names a pinned agent', async () => {
    const core = createMaofCore(makeOrchestrator(simConfig(addr())).orchestrator);
    await core.run({ messages: [userTurn('implement a heap')], task: 'code' });
    await core.run({ messages: [userTurn('write a haiku')], agentId: 'an', task: 'writing', source: 'commands' });
    const [pinned, primary] = core.recentRequests();
    assert.equal(primary.source, 'other', 'a caller that says nothing is "other"');
    assert.equal(whyWords(primary), "the code route's primary");
    assert.match(whyWords(pinned), /picked by name/);
  });

  it('keeps only the newest requests', async () => {
    const core = createMaofCore(makeOrchestrator(simConfig(addr())).orchestrator);
    for (let i = 0; i < 22; i++) await core.run({ messages: [userTurn(`implement list ${i}`)], task: 'code', temperature: 0.5 });
    const list = core.recentRequests();
    assert.equal(list.length, 20);
    assert.ok(list[0].at >= list[19].at);
  });

  it('answers status, spend and breaker questions, and resets a breaker', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 50 }]);
    const core = createMaofCore(makeOrchestrator(simConfig(addr(), { breaker: { failureThreshold: 1, resetTimeoutMs: 60_000 } })).orchestrator);
    const r = await core.run({ messages: [userTurn('implement a trie')], task: 'code' });
    assert.equal(core.breakerState('oa'), 'open');
    assert.equal(core.breakerSnapshot('oa').lastFailureCode, 'UPSTREAM');
    assert.ok(core.hasBreaker('oa') && !core.hasBreaker('nobody'));
    assert.ok(Math.abs(core.spend().monthUsd - r.costUsd) < 1e-12);
    assert.equal(core.spendEntries(10).length, 1);
    core.resetBreaker('oa');
    assert.equal(core.breakerState('oa'), 'closed');
  });

  it('seeds an empty conversation once and forgets it on request', async () => {
    const own = new ProviderSimulator({ keepBodies: true });
    try {
      const core = createMaofCore(makeOrchestrator(simConfig(await own.start())).orchestrator);
      const turns = [{ role: 'user' as const, content: 'My name is Ada.', at: 1 }, { role: 'assistant' as const, content: 'Hello Ada.', at: 2 }];
      assert.equal(core.seedSession('s1', turns), true);
      assert.equal(core.seedSession('s1', turns), false, 'a session with turns is not seeded again');
      await core.run({ messages: [userTurn('What is my name?')], task: 'writing', sessionId: 's1' });
      assert.match(JSON.stringify(own.requestLog().at(-1)?.body), /My name is Ada/);
      core.forgetSession('s1');
      assert.equal(core.seedSession('s1', turns), true, 'forgotten: empty again');
    } finally {
      await own.stop();
    }
  });
});
