// R12 (issue 19 §4): 10,000 requests of history, settled through the ledger's real reserve and
// settle path over two months, then read by the three surfaces a user compares: the dashboard's
// month view (DashboardModel.snapshot over the ledger's summary, and over a past month picked from
// the history), Export Usage (CSV and JSON) and `maof usage --json` run as a real process. Every
// total — spend, requests, cache hits, savings, tokens, per day, agent, task and source — agrees to
// the nano-dollar (so to the cent), and equals what the test itself settled.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CostLedger } from '../../src/core/cost/costLedger';
import type { Clock } from '../../src/core/ports';
import { SqliteStore } from '../../src/core/persistence/sqliteStore';
import { UsageHistory, type UsageGroupBy } from '../../src/core/persistence/usageHistory';
import { LEDGER_DB_FILE } from '../../src/core/persistence/stateDir';
import { buildUsageExport, type UsageExportJson } from '../../src/core/usage/usageExport';
import { monthOf, monthPeriod, previousMonth } from '../../src/core/usage/usagePeriod';
import { historyMonths, monthView, type UsageStatement } from '../../src/core/usage/usageReport';
import { DashboardModel } from '../../src/host/dashboard/dashboardModel';
import type { DashboardSnapshot, SpendBar } from '../../src/shared/dashboardProtocol';
import { record, tempDir } from './support/runContext';
import { cliBinary, cliEnv, runCli } from './support/cli';

const REQUESTS = 10_000;
const AGENTS = ['gpt-4.1', 'claude-sonnet', 'gpt-4.1-mini', 'claude-haiku', 'local, "quoted"'];
const TASKS = ['code', 'writing', 'analysis', 'review'];
const SOURCES = ['MAOF chat', 'commands', 'VS Code Chat', 'CLI'];
const GROUPS: readonly UsageGroupBy[] = ['day', 'agent', 'task', 'source'];

/** The test's own books: nano-dollars and counts per key, kept while it settles. */
class Oracle {
  readonly nano = new Map<string, number>();
  readonly requests = new Map<string, number>();
  readonly hits = new Map<string, number>();
  add(keys: string[], nano: number, hit: boolean): void {
    for (const k of keys) {
      this.nano.set(k, (this.nano.get(k) ?? 0) + nano);
      const counts = hit ? this.hits : this.requests;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const nanoOf = (usd: number): number => Math.round(usd * 1e9);
const cents = (usd: number): number => Math.round(usd * 100);

/** RFC 4180, as Export Usage writes it: quoted fields may hold commas and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.trimEnd().split('\n')) {
    const fields: string[] = [];
    for (const m of line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)) fields.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]);
    rows.push(fields);
  }
  return rows;
}

function barsAsNano(bars: SpendBar[]): Record<string, number> {
  return Object.fromEntries(bars.filter((b) => b.usd > 0).map((b) => [b.label, nanoOf(b.usd)]));
}

function groupsAsNano(groups: Array<{ key: string; costUsd: number }>): Record<string, number> {
  return Object.fromEntries(groups.filter((g) => g.costUsd > 0).map((g) => [g.key, nanoOf(g.costUsd)]));
}

describe('R12 the whole history: 10,000 requests, three surfaces, one set of totals', function () {
  this.timeout(240_000);

  it('the dashboard’s month view, Export Usage (CSV and JSON) and `maof usage --json` agree on every total, to the cent', async () => {
    cliBinary();
    const dir = tempDir('r12-usage');
    const now = Date.now();
    const month = monthOf(now);
    const past = previousMonth(month);
    const start = Date.parse(`${past}-01T00:00:00Z`);
    let t = start;
    const clock: Clock = { now: () => t, sleep: () => Promise.resolve() };
    const store = new SqliteStore(path.join(dir, LEDGER_DB_FILE));
    const ledger = new CostLedger({ store, clock, policy: { monthlyUsd: 1_000, alertAt: [0.8] } });
    const books = new Map<string, Oracle>([[month, new Oracle()], [past, new Oracle()]]);
    const random = lcg(19);
    const seedStarted = Date.now();
    for (let i = 0; i < REQUESTS; i++) {
      // Spread evenly from the first of last month to now, in order, as a clock would.
      t = start + Math.floor(((now - start) * i) / REQUESTS);
      const agentId = AGENTS[Math.floor(random() * AGENTS.length)];
      const task = TASKS[Math.floor(random() * TASKS.length)];
      const source = SOURCES[Math.floor(random() * SOURCES.length)];
      const day = new Date(t).toISOString().slice(0, 10);
      const oracle = books.get(monthOf(t))!;
      const usage = { inputTokens: 1 + Math.floor(random() * 4000), outputTokens: Math.floor(random() * 800), cacheReadTokens: Math.floor(random() * 100), cacheWriteTokens: 0 };
      const keys = ['all', `day:${day}`, `agent:${agentId}`, `task:${task}`, `source:${source}`];
      if (random() < 0.05) {
        const savedNano = 1 + Math.floor(random() * 1_000_000);
        ledger.recordCacheHit({ requestId: `r${i}`, agentId, task, savedUsd: savedNano / 1e9, model: 'm', usage, source });
        oracle.add(keys, 0, true);
        oracle.nano.set('saved', (oracle.nano.get('saved') ?? 0) + savedNano);
        continue;
      }
      // Any nano-dollar amount up to 5 cents: sums that float addition of dollars would get wrong.
      const costNano = 1 + Math.floor(random() * 50_000_000);
      const reservation = ledger.tryReserve(0.06);
      assert.ok(reservation, `request ${i} reserves`);
      ledger.settle(reservation, { requestId: `r${i}`, agentId, model: 'm', task, usage, costUsd: costNano / 1e9, cached: false, source, ttftMs: 100, totalMs: 900 });
      oracle.add(keys, costNano, false);
      oracle.nano.set('in', (oracle.nano.get('in') ?? 0) + usage.inputTokens);
    }
    const seedMs = Date.now() - seedStarted;
    t = now;
    const history = new UsageHistory(store);
    const pastRows = history.rows(monthPeriod(past))!.length;
    const monthRows = history.rows(monthPeriod(month))!.length;
    assert.equal(pastRows + monthRows, REQUESTS, 'every request is in the history (none dropped past 500)');

    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ budget: { monthlyUsd: 1_000, alertAt: [0.8] } }));
    const env = cliEnv(dir);
    const model = new DashboardModel(() => 3);
    const summary = ledger.summary();
    const months = historyMonths(history);
    assert.deepEqual(months, [month, past]);

    for (const m of [month, past]) {
      const oracle = books.get(m)!;
      // The dashboard: the current month from the ledger's summary; last month picked in the month picker.
      const view = m === month ? undefined : monthView(history, m);
      const snap: DashboardSnapshot = model.snapshot({ now, summary, breakers: [], breakerResetTimeoutMs: 60_000, cacheEntries: 0, months, ...(view ? { pastMonth: view } : {}) });
      assert.equal(snap.view.month, m);
      const dashTotal = m === month ? snap.spend.monthUsd : snap.view.monthUsd ?? -1;

      // `maof usage`, a real process, once per grouping.
      const cli: Partial<Record<UsageGroupBy | 'none', UsageStatement>> = {};
      for (const by of [...GROUPS, 'none'] as const) {
        const run = await runCli(`r12-usage-${m}-${by}`, ['usage', '--config', configFile, '--month', m, '--json', ...(by === 'none' ? [] : ['--by', by])], env);
        assert.equal(run.code, 0, run.stderr);
        cli[by] = JSON.parse(run.stdout) as UsageStatement;
      }
      // Export Usage: what the command writes for "a month".
      const json = JSON.parse(buildUsageExport(history, monthPeriod(m)!, 'json', summary, now)!.body) as UsageExportJson;
      const csv = parseCsv(buildUsageExport(history, monthPeriod(m)!, 'csv', summary, now)!.body);
      const header = csv[0];
      const col = (name: string): number => header.indexOf(name);
      const csvRows = csv.slice(1);
      assert.equal(csvRows.length, oracle.requests.get('all')! + oracle.hits.get('all')!);
      const csvBy = (column: string): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const r of csvRows) {
          const key = column === 'day' ? r[col('time')].slice(0, 10) : r[col(column)];
          out[key] = (out[key] ?? 0) + nanoOf(Number(r[col('costUsd')]));
        }
        return Object.fromEntries(Object.entries(out).filter(([, v]) => v > 0));
      };

      // The grand total, five ways, and the test's own books.
      const expected = oracle.nano.get('all')!;
      const totals = [nanoOf(dashTotal), nanoOf(cli.none!.totals.costUsd), nanoOf(json.totals.costUsd), Object.values(csvBy('agent')).reduce((a, b) => a + b, 0)];
      assert.deepEqual(totals, [expected, expected, expected, expected], `${m}: spend in nano-dollars (dashboard, maof usage, JSON, CSV) vs settled`);
      assert.deepEqual(new Set([dashTotal, cli.none!.totals.costUsd, json.totals.costUsd].map(cents)).size, 1, 'the same cents');
      // Requests, cache hits and savings.
      assert.equal(snap.spend.requests, oracle.requests.get('all'));
      assert.equal(cli.none!.totals.requests, oracle.requests.get('all'));
      assert.equal(json.totals.requests, oracle.requests.get('all'));
      assert.equal(csvRows.filter((r) => r[col('outcome')] === 'ok').length, oracle.requests.get('all'));
      assert.equal(snap.cache.hits, oracle.hits.get('all'));
      assert.equal(cli.none!.totals.cacheHits, oracle.hits.get('all'));
      assert.equal(json.totals.cacheHits, oracle.hits.get('all'));
      assert.equal(nanoOf(snap.cache.savedUsd), oracle.nano.get('saved'));
      assert.equal(nanoOf(cli.none!.totals.savedUsd), oracle.nano.get('saved'));
      assert.equal(nanoOf(json.totals.savedUsd), oracle.nano.get('saved'));
      assert.equal(cli.none!.totals.inputTokens, json.totals.inputTokens);
      // Per agent, task, source and day.
      const want = (prefix: string): Record<string, number> =>
        Object.fromEntries([...oracle.nano].filter(([k, v]) => k.startsWith(`${prefix}:`) && v > 0).map(([k, v]) => [k.slice(prefix.length + 1), v]));
      const dashBy: Record<UsageGroupBy, Record<string, number>> = {
        agent: barsAsNano(snap.byAgent),
        task: barsAsNano(snap.byTask),
        source: barsAsNano(snap.bySource),
        // The current month's chart shows the last 30 days: compare the days of this month it shows.
        day: Object.fromEntries(Object.entries(barsAsNano(snap.byDay)).filter(([d]) => d.startsWith(m))),
      };
      const jsonBy: Record<UsageGroupBy, UsageExportJson['byDay']> = { day: json.byDay, agent: json.byAgent, task: json.byTask, source: json.bySource };
      for (const by of GROUPS) {
        const oracleBy = want(by);
        const shownDays = by === 'day' && m === month ? new Set(Object.keys(dashBy.day)) : undefined;
        const onlyShown = (r: Record<string, number>): Record<string, number> => (shownDays ? Object.fromEntries(Object.entries(r).filter(([k]) => shownDays.has(k))) : r);
        assert.deepEqual(dashBy[by], onlyShown(oracleBy), `${m}: dashboard by ${by}`);
        assert.deepEqual(groupsAsNano(cli[by]!.groups), oracleBy, `${m}: maof usage --by ${by}`);
        assert.deepEqual(groupsAsNano(jsonBy[by]), oracleBy, `${m}: JSON export by ${by}`);
        assert.deepEqual(csvBy(by), oracleBy, `${m}: CSV export by ${by}`);
      }
      record('R12', { [m === month ? 'thisMonthUsd' : 'lastMonthUsd']: cli.none!.totals.costUsd.toFixed(2) });
    }
    record('R12', { requests: REQUESTS, agreed: true, seedMs });
    store.close();
  });
});
