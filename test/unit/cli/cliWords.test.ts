// The CLI names error codes with the shared vocabulary's labels (--verbose) and its fixes in a
// terminal's words, run end to end against the simulator.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { ACTIONS, errorLabel } from '../../../src/shared/errorVocabulary';

describe('maof speaks the error vocabulary', function () {
  this.timeout(20_000);
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  let dir: string;
  let config: string;
  let env: NodeJS.ProcessEnv;

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
    return { code, stdout, stderr };
  }

  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    dir = mkdtempSync(join(tmpdir(), 'maof-words-'));
    config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        agents: [
          { id: 'fast', provider: 'openai', model: 'gpt-4o-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000 },
          { id: 'spare', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000 },
        ],
        routes: { code: ['fast', 'spare'] },
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, jitter: 0 },
        breaker: { failureThreshold: 2, resetTimeoutMs: 600_000 },
      }),
    );
    env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, PATH: process.env.PATH ?? '' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--verbose names retries, fallbacks and breaker changes by their labels', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    const r = await cli(['ask', '--config', config, '--task', 'code', '--verbose', '--no-stream', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`retry fast after ${errorLabel('UPSTREAM')} \\(UPSTREAM\\), waiting`));
    assert.match(r.stderr, new RegExp(`fallback fast → spare \\(${errorLabel('UPSTREAM')}\\)`));
    assert.match(r.stderr, new RegExp(`breaker fast: closed → open \\(${errorLabel('UPSTREAM')}\\)`));
  });

  it('an open breaker’s fix is `maof breakers reset`, not an editor command', async () => {
    sim.plan([{ match: { model: 'gpt-4o-mini' }, fault: { kind: 'status', status: 503 }, times: 100 }]);
    await cli(['ask', '--config', config, '--agent', 'fast', '--json', 'one']);
    const r = await cli(['ask', '--config', config, '--agent', 'fast', 'two']);
    assert.equal(r.code, 1);
    const line = r.stderr.split('\n').find((l) => l.startsWith('maof: ')) ?? '';
    assert.match(line, /\[CIRCUIT_OPEN\]$/);
    assert.ok(line.includes(ACTIONS.resetBreakers.cli ?? '?'), line);
    assert.doesNotMatch(line, /MAOF: Reset Circuit Breakers/);
  });
});
