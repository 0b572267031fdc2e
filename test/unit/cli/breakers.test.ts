import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { ACTIONS, errorLabel } from '../../../src/shared/errorVocabulary';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
  return { code, stdout, stderr };
}

describe('maof breakers: failure counts add up across CLI runs', function () {
  this.timeout(20_000);
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  let dir: string;
  let config: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    dir = mkdtempSync(join(tmpdir(), 'maof-breakers-'));
    config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        agents: [
          { id: 'fast', provider: 'openai', model: 'gpt-4o-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000 },
          { id: 'spare', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000 },
        ],
        routes: { code: ['fast', 'spare'] },
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, jitter: 0 },
        breaker: { failureThreshold: 5, resetTimeoutMs: 600_000 },
      }),
    );
    env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, PATH: process.env.PATH ?? '' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('three `maof ask` runs of three failures each open the breaker, and the next run sends nothing', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    const first = await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'one'], env);
    assert.equal(first.code, 1);
    assert.equal(sim.tally().requests, 3, 'three attempts in the first run');
    const attempts = (JSON.parse(first.stdout) as { attempts: Array<{ outcome: string; elapsedMs?: number }> }).attempts;
    assert.deepEqual(attempts.map((a) => a.outcome), ['UPSTREAM', 'UPSTREAM', 'UPSTREAM']);
    assert.ok(attempts.every((a) => typeof a.elapsedMs === 'number' && a.elapsedMs >= 0), '--json gives each attempt its elapsed time');
    const second = await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'two'], env);
    assert.equal(second.code, 1);
    // Failures 4 and 5 open the breaker: the second run's third attempt is refused without a request.
    assert.equal(sim.tally().requests, 5);
    const third = await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'three'], env);
    assert.equal(third.code, 1);
    assert.equal((JSON.parse(third.stdout) as { error: { code: string } }).error.code, 'CIRCUIT_OPEN');
    assert.equal(sim.tally().requests, 5, 'an open breaker remembered from an earlier run sends nothing');

    const listed = await cli(['breakers', '--config', config, '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = (JSON.parse(listed.stdout) as { breakers: Array<{ agent: string; state: string; consecutiveFailures: number; halfOpenInMs?: number; lastFailure?: string }> }).breakers;
    const fast = rows.find((r) => r.agent === 'fast');
    assert.equal(fast?.state, 'open');
    assert.equal(fast?.consecutiveFailures, 5);
    assert.equal(fast?.lastFailure, 'UPSTREAM');
    assert.ok(fast?.halfOpenInMs !== undefined && fast.halfOpenInMs > 590_000 && fast.halfOpenInMs <= 600_000, `time to half-open: ${fast?.halfOpenInMs}`);
    const spare = rows.find((r) => r.agent === 'spare');
    assert.deepEqual(spare, { agent: 'spare', state: 'closed', consecutiveFailures: 0 });
  });

  it('speaks the error vocabulary: --verbose names codes by their labels, an open breaker’s fix is `maof breakers reset`', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    const first = await cli(['ask', '--config', config, '--task', 'code', '--verbose', '--no-stream', 'one'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`retry fast after ${errorLabel('UPSTREAM')} \\(UPSTREAM\\), waiting`));
    assert.match(first.stderr, new RegExp(`fallback fast → spare \\(${errorLabel('UPSTREAM')}\\)`));
    // Failures 4 and 5 open the breaker.
    const second = await cli(['ask', '--config', config, '--task', 'code', '--verbose', '--no-stream', 'two'], env);
    assert.match(second.stderr, new RegExp(`breaker fast: closed → open \\(${errorLabel('UPSTREAM')}\\)`));
    const refused = await cli(['ask', '--config', config, '--agent', 'fast', 'three'], env);
    assert.equal(refused.code, 1);
    const line = refused.stderr.split('\n').find((l) => l.startsWith('maof: ')) ?? '';
    assert.match(line, /\[CIRCUIT_OPEN\]$/);
    assert.ok(line.includes(ACTIONS.resetBreakers.cli ?? '?'), line);
    assert.doesNotMatch(line, /MAOF: Reset Circuit Breakers/);
  });

  it('--json also shows each agent\'s measured time to first token and the deadlines in force, remembered across runs', async () => {
    const asked = await cli(['ask', '--config', config, '--agent', 'fast', 'hello'], env);
    assert.equal(asked.code, 0, asked.stderr);
    const listed = await cli(['breakers', '--config', config, '--json'], env);
    const latency = (JSON.parse(listed.stdout) as { latency: Array<Record<string, unknown>> }).latency;
    const fast = latency.find((r) => r.agentId === 'fast');
    assert.equal(fast?.samples, 1);
    assert.equal(typeof fast?.ttftP50Ms, 'number');
    assert.equal(fast?.ok, 1);
    assert.deepEqual([fast?.firstTokenDeadlineMs, fast?.firstTokenDeadlineSource, fast?.idleDeadlineMs, fast?.outOfCredit], [12_000, 'cold-start', 30_000, false]);
    assert.deepEqual(latency.find((r) => r.agentId === 'spare'), { agentId: 'spare', samples: 0, ok: 0, stalled: 0, failed: 0, firstTokenDeadlineMs: 12_000, firstTokenDeadlineSource: 'cold-start', idleDeadlineMs: 30_000, outOfCredit: false });
  });

  it('an agent out of credit is skipped in later runs until `maof breakers reset` names it', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'out_of_credit' }, times: 100 }]);
    const first = await cli(['ask', '--config', config, '--task', 'code', '--json', 'one'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((JSON.parse(first.stdout) as { attempts: Array<{ outcome: string }> }).attempts.map((a) => a.outcome), ['OUT_OF_CREDIT', 'ok']);
    const second = await cli(['ask', '--config', config, '--task', 'code', '--json', 'two'], env);
    assert.equal(second.code, 0);
    assert.equal(sim.tally().requests, 3, 'the second run did not ask fast again');
    const listed = (JSON.parse((await cli(['breakers', '--config', config, '--json'], env)).stdout) as { latency: Array<{ agentId: string; outOfCredit: boolean }> }).latency;
    assert.equal(listed.find((r) => r.agentId === 'fast')?.outOfCredit, true);
    const reset = await cli(['breakers', 'reset', 'fast', '--config', config], env);
    assert.equal(reset.stdout, 'Reset the breaker of fast.\n');
    const after = (JSON.parse((await cli(['breakers', '--config', config, '--json'], env)).stdout) as { latency: Array<{ agentId: string; outOfCredit: boolean }> }).latency;
    assert.equal(after.find((r) => r.agentId === 'fast')?.outOfCredit, false);
  });

  it('a success clears the remembered count, so failures must be consecutive across runs too', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 2 }]);
    const failing = await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'one'], env);
    assert.equal(failing.code, 0, 'third attempt answers');
    const table = await cli(['breakers', '--config', config], env);
    assert.match(table.stdout, /^fast\s+closed\s+0\s+-\s+-$/m);
  });

  it('lists every agent as a table and resets one or all; an unknown agent names the known ids', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'one'], env);
    const table = await cli(['breakers', '--config', config], env);
    assert.equal(table.code, 0);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^AGENT\s+STATE\s+FAILURES\s+HALF-OPEN IN\s+LAST FAILURE$/);
    assert.match(table.stdout, /^fast\s+closed\s+3\s+-\s+UPSTREAM$/m);
    assert.match(table.stdout, /^spare\s+closed\s+0\s+-\s+-$/m);
    assert.match(table.stdout, /^gpt-4\.1\s+closed/m, 'built-in agents are listed too');

    const unknown = await cli(['breakers', 'reset', 'nope', '--config', config], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No agent "nope" — known agents: .*fast, spare/);

    const reset = await cli(['breakers', 'reset', 'fast', '--config', config], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /Reset the breaker of fast\./);
    const after = await cli(['breakers', '--config', config], env);
    assert.match(after.stdout, /^fast\s+closed\s+0\s+-\s+-$/m, 'the reset was saved');

    // Trip it for real, then reset everything.
    await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'two'], env);
    await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'three'], env);
    assert.match((await cli(['breakers', '--config', config], env)).stdout, /^fast\s+open\s+5\s+\d+ min/m);
    const all = await cli(['breakers', 'reset', '--config', config], env);
    assert.match(all.stdout, /Reset the breaker of fast\./);
    assert.match((await cli(['breakers', '--config', config], env)).stdout, /^fast\s+closed\s+0/m);
    const before = sim.tally().requests;
    await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'four'], env);
    assert.ok(sim.tally().requests > before, 'after the reset the agent is called again');
  });
});
