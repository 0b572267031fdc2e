import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';

describe('maof with an agent of unknown price (a gateway alias)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maof-price-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[], budget: Record<string, number>): Promise<{ code: number; stdout: string; stderr: string }> {
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        agents: [{ id: 'gw', provider: 'openai', model: 'team-smart', baseUrl: 'https://gateway.example.com/v1', apiKeyEnv: 'GW_KEY', contextWindow: 128000 }],
        routes: { code: ['gw'], writing: ['gw'], analysis: ['gw'] },
        budget,
      }),
    );
    let stdout = '';
    let stderr = '';
    const env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, GW_KEY: 'sk-gw-0123456789abcdef' };
    const code = await main([...args, '--config', config], { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
    return { code, stdout, stderr };
  }

  it('warns once per run naming the agent, and with a budget refuses its requests with the fix, sending nothing', async () => {
    const batch = join(dir, 'prompts.jsonl');
    writeFileSync(batch, ['one', 'two', 'three'].map((p) => JSON.stringify({ prompt: p, agent: 'gw' })).join('\n'));
    const r = await run(['batch', batch, '--json'], { monthlyUsd: 5 });
    assert.equal(r.code, 1);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('agents.gw.pricing'));
    assert.equal(warnings.length, 1, `one settings warning for the run: ${r.stderr}`);
    assert.match(warnings[0], /^\[warn\] Config .*agents\.gw\.pricing: no known price for model "team-smart".*set pricing for agent "gw"/);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string; message: string }; attempts: unknown[] });
    assert.equal(results.length, 3);
    for (const res of results) {
      assert.equal(res.ok, false);
      assert.equal(res.error?.code, 'CONFIG');
      assert.match(res.error?.message ?? '', /set pricing for agent "gw"/);
      assert.doesNotMatch(res.error?.message ?? '', /gateway\.example\.com/);
      assert.deepEqual(res.attempts, [{ agent: 'gw', outcome: 'CONFIG' }], 'refused before any request');
    }
  });
});
