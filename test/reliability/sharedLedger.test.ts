// R11 (issue 19): one ledger for every process of a user. Four built CLIs (`maof batch`, 50 requests
// each) run at once against one simulator under one monthly budget that real costs fill after
// about 60 answers: the provider never bills past the limit and the saved spend equals what it
// billed, to the cent. Then a batch is killed with SIGKILL mid-way: everything it settled is still
// there, and its reservations are free again within the stated time.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { costOf } from '../../src/core/cost/costCalculator';
import { parseConfig, pricingFor } from '../../src/core/config/schema';
import { CostLedger } from '../../src/core/cost/costLedger';
import { systemClock } from '../../src/core/clock';
import { SqliteStore, STALE_OWNER_MS } from '../../src/core/persistence/sqliteStore';
import { UsageHistory } from '../../src/core/persistence/usageHistory';
import { LEDGER_DB_FILE } from '../../src/core/persistence/stateDir';
import { NODE_TOO_OLD } from '../../src/cli/main';
import { record, tempDir } from './support/runContext';
import { relConfig, simulatorPerSuite, sleep } from './support/pipeline';
import { cliBinary, cliEnv, jsonLines, runCli, writeCliConfig } from './support/cli';

const PROCESSES = 4;
const PER_PROCESS = 50;
const PROMPT = 'Write a function that merges two sorted arrays [[words:400]]';

function batchFile(dir: string, label: string, n: number): string {
  const file = path.join(dir, `${label}.jsonl`);
  writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: `${PROMPT} #${label}-${i}`, task: 'code' })).join('\n'));
  return file;
}

function ledgerAt(dir: string, monthlyUsd: number): { store: SqliteStore; ledger: CostLedger } {
  const store = new SqliteStore(path.join(dir, LEDGER_DB_FILE));
  return { store, ledger: new CostLedger({ store, clock: systemClock, policy: { monthlyUsd, alertAt: [0.8] } }) };
}

describe('R11 shared ledger: several real processes, one budget', function () {
  this.timeout(180_000);
  const { sim, addr } = simulatorPerSuite();

  it('4 CLI batches × 50 requests at once never bill past the limit, and the saved spend is the provider\'s bill to the cent', async () => {
    cliBinary();
    const dir = tempDir('r11-shared');
    const base = relConfig(addr(), {}, { oa: { maxOutputTokens: 200 } });
    const agent = base.agents.find((a) => a.id === 'oa');
    assert.ok(agent);
    const pricing = pricingFor(parseConfig({ agents: [{ id: 'oa', provider: 'openai', model: agent.model, contextWindow: 100_000 }] }).config.agents.find((a) => a.id === 'oa')!);
    // One probe answer tells what a real answer costs; the budget affords about 60 of them.
    sim.reset();
    const probeDir = tempDir('r11-probe');
    const probeCfg = writeCliConfig(path.join(probeDir, 'c.json'), base, { routes: { code: ['oa'] } });
    const probe = await runCli('r11-probe', ['ask', '--json', '--task', 'code', '--config', probeCfg, `${PROMPT} #probe`], cliEnv(probeDir));
    const [probeLine] = jsonLines(probe.stdout) as Array<{ ok: boolean; costUsd: number }>;
    assert.ok(probeLine?.ok, probe.stderr);
    const limit = Math.round(probeLine.costUsd * 60 * 1e6) / 1e6;
    await sim.quiesce();
    sim.reset();
    sim.setLatency(40);

    const config = writeCliConfig(path.join(dir, 'config.json'), base, { routes: { code: ['oa'] }, budget: { monthlyUsd: limit } });
    const runs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) => runCli(`r11-${p}`, ['batch', batchFile(dir, `p${p}`, PER_PROCESS), '--json', '--concurrency', '8', '--config', config], cliEnv(dir), { timeoutMs: 150_000 })),
    );
    await sim.quiesce();
    const lines = runs.flatMap((r) => jsonLines(r.stdout) as Array<{ ok: boolean; error?: { code: string } }>);
    assert.equal(lines.length, PROCESSES * PER_PROCESS, runs.map((r) => r.stderr).join('\n'));
    const answered = lines.filter((l) => l.ok).length;
    const refused = lines.filter((l) => !l.ok && l.error?.code === 'BUDGET_EXCEEDED').length;
    assert.equal(answered + refused, lines.length, 'every request answered or refused for budget');

    const t = sim.tally();
    const billed = costOf({ inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheWriteTokens: t.cacheWriteTokens }, pricing);
    assert.equal(t.succeeded, answered, 'the provider answered exactly the answered requests');
    assert.ok(billed <= limit, `the provider billed $${billed}, within the $${limit} limit`);
    assert.ok(answered >= 40, `most of the ~60 affordable answers were given (${answered})`);

    const { store, ledger } = ledgerAt(dir, limit);
    try {
      const s = ledger.summary();
      assert.ok(Math.abs(s.monthUsd - billed) < 0.005, `saved spend $${s.monthUsd} equals the provider's bill $${billed} to the cent`);
      assert.equal(s.requests, answered);
      assert.equal(s.reservedUsd, 0, 'every reservation settled or released');
      assert.equal(new UsageHistory(store).query({})?.totals.requests, answered);
      record('R11', { processes: PROCESSES, requests: lines.length, answered, refused, limitUsd: limit, billedUsd: Number(billed.toFixed(6)), savedUsd: s.monthUsd });
    } finally {
      store.close();
    }
  });

  it('a batch killed with SIGKILL loses nothing it settled, and its reservations are free again within the stated time', async () => {
    cliBinary();
    const dir = tempDir('r11-kill');
    const base = relConfig(addr(), {}, { oa: { maxOutputTokens: 200 } });
    const config = writeCliConfig(path.join(dir, 'config.json'), base, { routes: { code: ['oa'] }, budget: { monthlyUsd: 1000 } });
    sim.reset();
    sim.setLatency(150);
    const { store, ledger } = ledgerAt(dir, 1000);
    const history = new UsageHistory(store);
    let settledBeforeKill = 0;
    let killedAt = 0;
    const run = runCli('r11-kill', ['batch', batchFile(dir, 'k', 200), '--json', '--concurrency', '8', '--config', config], cliEnv(dir), {
      onSpawn: (child) => {
        const watch = setInterval(() => {
          const n = history.query({})?.totals.requests ?? 0;
          if (n < 12) return;
          clearInterval(watch);
          settledBeforeKill = n;
          killedAt = Date.now();
          child.kill('SIGKILL');
        }, 20);
      },
    });
    const r = await run;
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(settledBeforeKill >= 12);
    const after = history.query({})?.totals.requests ?? 0;
    assert.ok(after >= settledBeforeKill, `nothing settled was lost (${after} ≥ ${settledBeforeKill})`);
    // Its reservations: released by the next writer once the dead pid (or a stale heartbeat) is seen.
    let freeAfterMs = -1;
    while (Date.now() - killedAt < STALE_OWNER_MS + 5_000) {
      const res = ledger.tryReserve(0.000_001);
      if (res) ledger.release(res);
      if (ledger.summary().reservedUsd === 0) {
        freeAfterMs = Date.now() - killedAt;
        break;
      }
      await sleep(100);
    }
    store.close();
    assert.ok(freeAfterMs >= 0 && freeAfterMs <= STALE_OWNER_MS + 2_000, `reservations free again within ${STALE_OWNER_MS + 2_000} ms (took ${freeAfterMs} ms)`);
    record('R11', { killSettledBefore: settledBeforeKill, killSettledAfter: after, reservationsFreeAfterMs: freeAfterMs });
  });

  it('the built CLI on a Node without node:sqlite (the machine\'s Node 20) says which Node it needs and exits non-zero', function () {
    const old = spawnSync('/usr/bin/node', ['-e', 'process.stdout.write(process.versions.node)'], { encoding: 'utf8' });
    if (old.status !== 0 || Number(old.stdout.split('.')[0]) >= 23 || old.stdout.startsWith('22.') && Number(old.stdout.split('.')[1]) >= 13) this.skip();
    const dir = tempDir('r11-node20');
    const r = spawnSync('/usr/bin/node', [cliBinary(), 'ask', '--config', writeCliConfig(path.join(dir, 'c.json'), relConfig(addr())), 'hello'], { env: cliEnv(dir), encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.includes("MAOF's CLI needs Node 22.13 or later"), r.stderr);
    assert.ok(NODE_TOO_OLD.startsWith("MAOF's CLI needs Node 22.13 or later"));
    assert.equal(sim.tally().requests, 0, 'nothing was sent');
  });
});
