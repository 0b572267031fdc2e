// Issue 19 benchmark: one reserve + settle on the shared SQLite ledger, p50 / p99, in one process
// and with 4 processes contending for the same database file (each its own connection).
//   npx tsx bench/ledger.ts            (needs Node 22.13+: bash scripts/with-sqlite-node.sh npx tsx bench/ledger.ts)
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CostLedger } from '../src/core/cost/costLedger';
import { systemClock } from '../src/core/clock';
import { SqliteStore } from '../src/core/persistence/sqliteStore';

const OPS = 1_000;
const usage = { inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 };

function measure(file: string): number[] {
  const store = new SqliteStore(file);
  const ledger = new CostLedger({ store, clock: systemClock, policy: { monthlyUsd: 1_000_000, alertAt: [0.8] } });
  const times: number[] = [];
  for (let i = 0; i < OPS; i++) {
    const t0 = performance.now();
    const r = ledger.tryReserve(0.01);
    if (!r) throw new Error('no reservation');
    ledger.settle(r, { requestId: `b-${process.pid}-${i}`, agentId: 'a', model: 'm', task: 'code', usage, costUsd: 0.001, cached: false });
    times.push(performance.now() - t0);
  }
  store.close();
  return times;
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (xs: number[]): string => `p50 ${(pct(xs, 0.5) * 1000).toFixed(0)} µs, p99 ${(pct(xs, 0.99) * 1000).toFixed(0)} µs`;

if (process.argv[2] === 'child') {
  process.send?.(measure(process.argv[3]));
} else {
  const file = join(mkdtempSync(join(tmpdir(), 'maof-bench-ledger-')), 'maof.db');
  console.log(`reserve + settle, 1 process × ${OPS}: ${fmt(measure(file))}`);
  const children = Array.from({ length: 4 }, () =>
    new Promise<number[]>((resolve) => {
      const c = fork(__filename, ['child', file], { execArgv: ['--import', 'tsx'] });
      c.on('message', (m) => resolve(m as number[]));
    }),
  );
  void Promise.all(children).then((runs) => console.log(`reserve + settle, 4 processes × ${OPS} contending: ${fmt(runs.flat())}`));
}
