// Child process for the crash test (R6): settles ledger entries into a FileStateStore in a tight
// loop, each write padded to ~2 MB so a SIGKILL is likely to land in the middle of one, and prints
// "ack N" once the state with N requests is on disk.
import { systemClock } from '../../../src/core/clock';
import { budgetSchema } from '../../../src/core/config/schema';
import { CostLedger } from '../../../src/core/cost/costLedger';
import { FileStateStore } from '../../../src/core/persistence/fileStateStore';

export const PADDING_CHARS = 2_000_000;
export const COST_PER_ENTRY_USD = 0.000001;

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: stateWriterChild FILE');
  const store = new FileStateStore(file);
  const ledger = new CostLedger({ store, clock: systemClock, policy: budgetSchema.parse({}) });
  if (typeof store.get('padding') !== 'string') await store.update('padding', 'p'.repeat(PADDING_CHARS));
  process.stdout.write(`start ${ledger.summary().requests}\n`);
  for (;;) {
    const reservation = ledger.reserveOrWait(COST_PER_ENTRY_USD, { deadline: Number.MAX_SAFE_INTEGER });
    if (reservation instanceof Promise) throw new Error('no budget is set: nothing to wait for');
    const n = ledger.summary().requests + 1;
    ledger.settle(reservation, {
      requestId: `write-${n}`,
      agentId: 'writer',
      model: 'sim',
      task: 'code',
      usage: { inputTokens: n, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: COST_PER_ENTRY_USD,
      cached: false,
    });
    await ledger.flush();
    await store.flush();
    process.stdout.write(`ack ${ledger.summary().requests}\n`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`state writer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
