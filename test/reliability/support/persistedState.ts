// Reads a state file the way the core will read it on the next start (ledger totals, breakers),
// without going through FileStateStore (which would refuse to use an unreadable file).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SqliteStore } from '../../../src/core/persistence/sqliteStore';
import { LEDGER_DB_FILE } from '../../../src/core/persistence/stateDir';
import { systemClock } from '../../../src/core/clock';
import { breakerSchema, budgetSchema } from '../../../src/core/config/schema';
import { CostLedger, LEDGER_STATE_KEY } from '../../../src/core/cost/costLedger';
import { BREAKER_STATE_KEY } from '../../../src/core/orchestrator';
import { MemoryStateStore, type Logger } from '../../../src/core/ports';
import { BreakerRegistry } from '../../../src/core/resilience/circuitBreaker';
import type { BreakerState } from '../../../src/core/events';

export interface PersistedState {
  monthUsd: number;
  requests: number;
  breakers: Record<string, BreakerState>;
  /** Warnings the ledger gave while loading (a partly invalid ledger). */
  warnings: string[];
  raw: Record<string, unknown>;
}

/** The shared ledger (issue 19) beside a state.json path, read as the next process will read it. */
function readLedgerDb(db: string, breakerPolicy: Record<string, unknown>): PersistedState {
  const store = new SqliteStore(db);
  try {
    const ledger = new CostLedger({ store, clock: systemClock, policy: budgetSchema.parse({}) });
    const registry = new BreakerRegistry(breakerSchema.parse(breakerPolicy), systemClock);
    const snapshots = store.get(BREAKER_STATE_KEY);
    registry.restore(snapshots);
    const breakers: Record<string, BreakerState> = {};
    if (snapshots && typeof snapshots === 'object') for (const id of Object.keys(snapshots)) breakers[id] = registry.get(id).state;
    const s = ledger.summary();
    return { monthUsd: s.monthUsd, requests: s.requests, breakers, warnings: [], raw: { [BREAKER_STATE_KEY]: snapshots } };
  } finally {
    store.close();
  }
}

export function readPersisted(file: string, breakerPolicy: Record<string, unknown> = { resetTimeoutMs: 3_600_000 }): PersistedState {
  // The CLI keeps its state in the shared ledger now; a state.json path means "this state dir's".
  if (file.endsWith('.db')) return readLedgerDb(file, breakerPolicy);
  const db = join(dirname(file), LEDGER_DB_FILE);
  if (!existsSync(file) && existsSync(db)) return readLedgerDb(db, breakerPolicy);
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  assert.doesNotThrow(() => (raw = JSON.parse(text)), `${file} is valid JSON`);
  assert.ok(raw && typeof raw === 'object' && !Array.isArray(raw), `${file} holds an object`);
  const data = raw as Record<string, unknown>;
  const store = new MemoryStateStore();
  void store.update(LEDGER_STATE_KEY, data[LEDGER_STATE_KEY]);
  const warnings: string[] = [];
  const note = (m: string | Error): void => void warnings.push(String(m));
  const logger: Logger = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: note, error: note };
  const ledger = new CostLedger({ store, clock: systemClock, policy: budgetSchema.parse({}), logger });
  const registry = new BreakerRegistry(breakerSchema.parse(breakerPolicy), systemClock);
  const snapshots = data[BREAKER_STATE_KEY];
  registry.restore(snapshots);
  const breakers: Record<string, BreakerState> = {};
  if (snapshots && typeof snapshots === 'object') for (const id of Object.keys(snapshots)) breakers[id] = registry.get(id).state;
  const s = ledger.summary();
  return { monthUsd: s.monthUsd, requests: s.requests, breakers, warnings, raw: data };
}
