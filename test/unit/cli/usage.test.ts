// `maof usage`: a period's spend read from the whole saved history (not only this run's, not only
// the last requests), the budget left, and bad flags named with their fix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { SqliteStore } from '../../../src/core/persistence/sqliteStore';
import { LEDGER_DB_FILE } from '../../../src/core/persistence/stateDir';
import type { UsageRow } from '../../../src/core/ports';
import { monthOf, previousMonth } from '../../../src/core/usage/usagePeriod';
import type { UsageStatement } from '../../../src/core/usage/usageReport';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';

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

function row(at: number, agentId: string, costNano: number, extra: Partial<UsageRow> = {}): UsageRow {
  return { requestId: `seed-${at}-${agentId}`, at, source: 'CLI', task: 'code', agentId, model: 'm', inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, costNano, savedNano: 0, cached: false, outcome: 'ok', ...extra };
}

describe('maof usage', function () {
  this.timeout(20_000);
  const sim = new ProviderSimulator();
  let addr: SimulatorAddress;
  let dir: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  const lastMonth = previousMonth(monthOf(Date.now()));

  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    dir = mkdtempSync(join(tmpdir(), 'maof-usage-'));
    config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        agents: [
          { id: 'fast', provider: 'openai', model: 'gpt-4o-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000 },
          { id: 'deep', provider: 'anthropic', model: 'claude-sonnet-5-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 200000, requiresKey: false },
        ],
        routes: { code: ['fast'], writing: ['deep'] },
        budget: { monthlyUsd: 2 },
      }),
    );
    env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, PATH: process.env.PATH ?? '', OPENAI_API_KEY: 'sk-usage-test-000000000000000000' };
    // Last month, written by an earlier process: 700 requests, more than the 500 the ledger once kept.
    const store = new SqliteStore(join(dir, LEDGER_DB_FILE));
    const ledger = store.sharedLedger!;
    const first = Date.parse(`${lastMonth}-01T00:00:00Z`);
    ledger.transact(() => {
      for (let i = 0; i < 700; i++) ledger.addEntry(row(first + i * 3_600_000, i % 2 ? 'fast' : 'deep', 1_000_000 + i));
      ledger.addEntry(row(first + 5, 'fast', 0, { outcome: 'cache-hit', cached: true, savedNano: 42_000 }));
    });
    store.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds up this month’s requests, a past month’s whole history, and what is left of the budget', async () => {
    const asked: number[] = [];
    for (const [task, prompt] of [['code', 'a stack'], ['writing', 'a poem'], ['code', 'a queue']]) {
      const r = await cli(['ask', '--config', config, '--task', task, '--json', prompt], env);
      assert.equal(r.code, 0, r.stderr);
      asked.push((JSON.parse(r.stdout) as { costUsd: number }).costUsd);
    }
    const spent = asked.reduce((a, b) => a + b, 0);

    const now = await cli(['usage', '--config', config, '--json'], env);
    assert.equal(now.code, 0, now.stderr);
    const month = JSON.parse(now.stdout) as UsageStatement;
    assert.equal(month.period.label, monthOf(Date.now()));
    assert.equal(month.totals.requests, 3);
    assert.ok(Math.abs(month.totals.costUsd - spent) < 1e-8, `${month.totals.costUsd} vs ${spent}`);
    assert.equal(month.budget.monthlyLimitUsd, 2);
    assert.ok(Math.abs((month.budget.monthLeftUsd ?? -1) - (2 - spent)) < 1e-8, 'left = limit − spent');

    const past = JSON.parse((await cli(['usage', '--config', config, '--month', lastMonth, '--by', 'agent', '--json'], env)).stdout) as UsageStatement;
    // 700 × 1,000,000 nano + (0 + 1 + … + 699) nano.
    const pastNano = 700 * 1_000_000 + (699 * 700) / 2;
    assert.equal(Math.round(past.totals.costUsd * 1e9), pastNano);
    assert.equal(past.totals.requests, 700);
    assert.equal(past.totals.cacheHits, 1);
    assert.equal(Math.round(past.totals.savedUsd * 1e9), 42_000);
    assert.deepEqual(past.groups.map((g) => [g.key, g.requests]), [['deep', 350], ['fast', 350]]);
    assert.equal(Math.round(past.groups.reduce((a, g) => a + g.costUsd, 0) * 1e9), pastNano);
    // The budget is this month's whatever period is asked about.
    assert.equal(past.budget.month, monthOf(Date.now()));

    const since = JSON.parse((await cli(['usage', '--config', config, '--since', `${lastMonth}-01`, '--by', 'source', '--json'], env)).stdout) as UsageStatement;
    assert.equal(since.totals.requests, 703);
    assert.ok(Math.abs(since.totals.costUsd - (pastNano / 1e9 + spent)) < 1e-8);
    assert.deepEqual(since.groups.map((g) => [g.key, g.requests]), [['CLI', 703]]);

    const text = await cli(['usage', '--config', config, '--month', lastMonth, '--by', 'day'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^MAOF usage — ${lastMonth} \\(UTC\\)$`, 'm'));
    assert.match(text.stdout, /^Spent {6}\$0\.70 · 700 requests · 1 cache hit \(saved <\$0\.0001\)$/m);
    assert.match(text.stdout, /^Budget {5}this month \(\d{4}-\d{2}\): \$0\.00\d\d of \$2\.00 · \$2\.00 left$/m);
    assert.match(text.stdout, new RegExp(`^${lastMonth}-01\\s+\\$0\\.02\\s+24\\s+1$`, 'm'), 'one line per day: 24 requests on the first');
  });

  it('names a bad flag and how to write it, and exits 2 before reading anything', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['usage', '--month', '2026-13'], /--month takes a month as YYYY-MM, e.g. --month \d{4}-\d{2}; "2026-13" is not one/],
      [['usage', '--month', 'december'], /--month takes a month as YYYY-MM/],
      [['usage', '--since', '2026-02-31'], /--since takes a date as YYYY-MM-DD \(UTC\), e.g. --since \d{4}-\d{2}-01; "2026-02-31" is not one/],
      [['usage', '--since', 'yesterday'], /--since takes a date as YYYY-MM-DD/],
      [['usage', '--by', 'week'], /--by takes one of day, agent, task, source; "week" is not one/],
      [['usage', '--month', '2026-11', '--since', '2026-11-01'], /--month and --since cannot be combined/],
      [['usage', 'november'], /usage takes flags only \("november" is not one\), e.g. maof usage --month/],
      [['ask', '--by', 'agent', 'hello'], /--by belongs to maof usage, e.g. maof usage --by agent/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(sim.tally().requests, 0);
  });

  it('says that MAOF_NO_STATE keeps no history to report', async () => {
    const r = await cli(['usage'], { ...env, MAOF_NO_STATE: '1' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /MAOF_NO_STATE=1 keeps none/);
  });
});
