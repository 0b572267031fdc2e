// One piece of state kept in the StateStore under one key (the ledger, the breakers): read back
// through a salvaging parse that keeps what is valid and logs what it dropped, saved throttled.
import type { z } from 'zod';
import type { Clock, Logger, StateStore } from '../ports';
import { ThrottledSave } from './throttledSave';

/**
 * Reads stored data back: returns what is still valid and pushes a short note (no values: they
 * may be anything) onto `problems` for each thing it had to drop.
 */
export type Salvage<T> = (raw: unknown, problems: string[]) => T;

export interface PersistedSlotOptions<T> {
  store: StateStore;
  key: string;
  /** Names the state in log lines: "Cost ledger", "Circuit breakers". */
  label: string;
  salvage: Salvage<T>;
  /** The value to save, taken when the save runs, so a burst of changes is one save of the latest state. */
  snapshot: () => unknown;
  clock: Clock;
  /** Least time between two saves; see ThrottledSave. */
  intervalMs: number;
  logger: Logger;
}

export class PersistedSlot<T> {
  private readonly store: StateStore;
  private readonly key: string;
  private readonly label: string;
  private readonly salvage: Salvage<T>;
  private readonly logger: Logger;
  private readonly saver: ThrottledSave;

  constructor(opts: PersistedSlotOptions<T>) {
    this.store = opts.store;
    this.key = opts.key;
    this.label = opts.label;
    this.salvage = opts.salvage;
    this.logger = opts.logger;
    const { store, key, snapshot } = opts;
    this.saver = new ThrottledSave(
      () => store.update(key, snapshot()),
      opts.clock,
      opts.intervalMs,
      (err) => this.logger.warn(`${this.label}: saving failed; the next change saves everything.`, err),
    );
  }

  /**
   * What is stored, salvaged; undefined when nothing is (or the store could not give it: a file
   * that cannot be read at all is the store's own `problem`, told to the user there).
   */
  load(): T | undefined {
    let raw: unknown;
    try {
      raw = this.store.get(this.key);
    } catch (err) {
      this.logger.warn(`${this.label}: stored state could not be read; starting from zero.`, err);
      return undefined;
    }
    if (raw === undefined) return undefined;
    const problems: string[] = [];
    const value = this.salvage(raw, problems);
    if (problems.length > 0) this.logger.warn(`${this.label}: stored state was partly invalid, kept what was valid (${problems.join('; ')}).`);
    return value;
  }

  /** Marks the state changed; `urgent` saves without waiting out the interval. */
  save(urgent = false): void {
    this.saver.request(urgent);
  }

  /** Resolves once every change so far has been handed to the store. */
  flush(): Promise<void> {
    return this.saver.flush();
  }
}

/**
 * A salvage for a record of like entries (agent id → snapshot): keeps each entry `schema` accepts
 * under a non-empty key, names the keys it dropped. Not an object at all: nothing is kept.
 */
export function salvageRecord<S extends z.ZodType>(schema: S, name: string): Salvage<Record<string, z.output<S>>> {
  return (raw, problems) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${name} is not an object`);
      return {};
    }
    const kept: Array<[string, z.output<S>]> = [];
    const dropped: string[] = [];
    for (const [key, value] of Object.entries(raw)) {
      const parsed = schema.safeParse(value);
      if (parsed.success && key !== '') kept.push([key, parsed.data]);
      else dropped.push(JSON.stringify(key.slice(0, 80)));
    }
    if (dropped.length > 0) problems.push(`${name}: dropped ${dropped.length} invalid item(s) (${dropped.join(', ')})`);
    // fromEntries, not assignment: a stored "__proto__" key stays a plain entry.
    return Object.fromEntries(kept);
  };
}
