// Writes a past month of requests into a ledger database through SqliteStore's own insert (the SQL
// every settle uses), for the e2e test of the dashboard's month picker. Run with a Node that has
// node:sqlite: `node --import tsx test/e2e/support/seedHistory.ts DIR MONTH COUNT`. Prints the
// month's total in nano-dollars.
import path from 'node:path';
import { SqliteStore } from '../../../src/core/persistence/sqliteStore';
import { LEDGER_DB_FILE } from '../../../src/core/persistence/stateDir';

const [dir, month, count] = process.argv.slice(2);
const store = new SqliteStore(path.join(dir, LEDGER_DB_FILE));
const ledger = store.sharedLedger;
if (!ledger || !month || !count) throw new Error(`cannot seed ${dir} (${store.problem?.message ?? 'usage: DIR MONTH COUNT'})`);
const start = Date.parse(`${month}-01T00:00:00Z`);
let total = 0;
ledger.transact(() => {
  for (let i = 0; i < Number(count); i++) {
    const costNano = 10_000_000 + i * 1_000;
    total += costNano;
    ledger.addEntry({
      requestId: `seed-${month}-${i}`, at: start + i * 3_600_000, source: 'CLI', task: i % 2 ? 'writing' : 'code', agentId: 'last-month-agent', model: 'gpt-4.1',
      inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, costNano, savedNano: 0, cached: false, outcome: 'ok',
    });
  }
});
store.close();
process.stdout.write(`${total}\n`);
