// Reads a state file the way the core will read it on the next start (ledger totals, breakers),
// without going through FileStateStore (which would refuse to use an unreadable file).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

export function readPersisted(file: string, breakerPolicy: Record<string, unknown> = { resetTimeoutMs: 3_600_000 }): PersistedState {
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
