import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseConfig } from '../../../src/core/config/schema';
import { BREAKER_SAVE_INTERVAL_MS, BREAKER_STATE_KEY, Orchestrator } from '../../../src/core/orchestrator';
import { PersistedSlot, salvageRecord } from '../../../src/core/persistence/persistedSlot';
import { MemoryStateStore, type Logger, type StateStore } from '../../../src/core/ports';
import { FakeClock } from '../helpers/fakeClock';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const note = (m: string | Error): void => void warnings.push(String(m));
  return { warnings, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: note, error: note };
}

/** A store that counts the writes of one key. */
function countingStore(key: string): StateStore & { writes: number } {
  const inner = new MemoryStateStore();
  const store = {
    writes: 0,
    get: (k: string) => inner.get(k),
    update: (k: string, v: unknown) => {
      if (k === key) store.writes++;
      return inner.update(k, v);
    },
  };
  return store;
}

const openBreaker = (at: number) => ({ state: 'open', consecutiveFailures: 5, openedAt: at, lastFailureCode: 'UPSTREAM', recent: [true, true, true, true, true], opens: 1 });

function orchestrator(store: StateStore, clock: FakeClock, logger: Logger): Orchestrator {
  return new Orchestrator({ config: parseConfig({ breaker: { failureThreshold: 3, resetTimeoutMs: 60_000 } }).config, secrets: { get: () => Promise.resolve(undefined) }, store, clock, logger });
}

describe('PersistedSlot', () => {
  let clock: FakeClock;
  beforeEach(() => (clock = new FakeClock(Date.UTC(2025, 5, 15))));
  afterEach(() => clock.reset());

  it('breakers: one damaged agent entry costs only that agent; the others come back and the log names what was dropped', async () => {
    const store = new MemoryStateStore();
    await store.update(BREAKER_STATE_KEY, { oa: openBreaker(clock.now()), an: { state: 'ajar' }, '': openBreaker(clock.now()) });
    const logger = recordingLogger();
    const o = orchestrator(store, clock, logger);
    assert.equal(o.breakers.get('oa').state, 'open', 'the valid breaker is still open after the restart');
    assert.equal(o.breakers.get('an').state, 'closed');
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0], /^Circuit breakers: stored state was partly invalid, kept what was valid \(breakers: dropped 2 invalid item\(s\) \("an", ""\)\)\.$/);
  });

  it('breakers: stored state that is no object at all starts every breaker closed, with a warning', () => {
    const store = new MemoryStateStore();
    void store.update(BREAKER_STATE_KEY, ['not', 'breakers']);
    const logger = recordingLogger();
    const o = orchestrator(store, clock, logger);
    assert.equal(o.breakers.get('oa').state, 'closed');
    assert.deepEqual(logger.warnings, ['Circuit breakers: stored state was partly invalid, kept what was valid (breakers is not an object).']);
  });

  it('breakers: a failure storm is written once per interval, a breaker that opens at once, the rest at flush', async () => {
    const store = countingStore(BREAKER_STATE_KEY);
    const o = orchestrator(store, clock, recordingLogger());
    o.breakers.get('oa').recordFailure('UPSTREAM');
    await clock.flush();
    assert.equal(store.writes, 1, 'the first failure after a quiet spell is saved at once');
    o.breakers.get('an').recordFailure('UPSTREAM');
    o.breakers.get('an').recordFailure('UPSTREAM');
    await clock.flush();
    assert.equal(store.writes, 1, 'more failures within the interval wait');
    o.breakers.get('an').recordFailure('UPSTREAM'); // the third: opens
    await clock.flush();
    assert.equal(store.writes, 2, 'a breaker that opened is saved at once');
    o.breakers.get('oa').recordFailure('UPSTREAM');
    await o.flush();
    assert.equal(store.writes, 3);
    await clock.advance(BREAKER_SAVE_INTERVAL_MS * 5);
    assert.equal(store.writes, 3, 'nothing left to save');
    const again = orchestrator(store, clock, recordingLogger());
    assert.equal(again.breakers.get('an').state, 'open');
    assert.equal(again.breakers.get('oa').snapshot().consecutiveFailures, 2);
  });

  it('a store that throws on read starts from nothing with one warning', () => {
    const logger = recordingLogger();
    const slot = new PersistedSlot({
      store: { get: () => { throw new SyntaxError('Unexpected end of JSON input'); }, update: () => Promise.resolve() },
      key: 'k',
      label: 'Things',
      salvage: salvageRecord(z.number(), 'things'),
      snapshot: () => ({}),
      clock,
      intervalMs: 1_000,
      logger,
    });
    assert.equal(slot.load(), undefined);
    assert.deepEqual(logger.warnings, ['Things: stored state could not be read; starting from zero.']);
  });

  it('a failed save is logged and the next change saves the latest state', async () => {
    const inner = new MemoryStateStore();
    let fail = true;
    let value = 1;
    const logger = recordingLogger();
    const slot = new PersistedSlot({
      store: { get: (k) => inner.get(k), update: (k, v) => (fail ? Promise.reject(new Error('disk full')) : inner.update(k, v)) },
      key: 'k',
      label: 'Things',
      salvage: salvageRecord(z.number(), 'things'),
      snapshot: () => ({ a: value }),
      clock,
      intervalMs: 1_000,
      logger,
    });
    slot.save();
    await slot.flush();
    assert.deepEqual(logger.warnings, ['Things: saving failed; the next change saves everything.']);
    fail = false;
    value = 2;
    slot.save();
    await slot.flush();
    assert.deepEqual(slot.load(), { a: 2 });
  });

  it('salvageRecord keeps a stored "__proto__" key as a plain entry', () => {
    const problems: string[] = [];
    const out = salvageRecord(z.number(), 'things')(JSON.parse('{"__proto__": 1, "b": "x", "c": 3}'), problems);
    assert.deepEqual(Object.entries(out), [['__proto__', 1], ['c', 3]]);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(problems, ['things: dropped 1 invalid item(s) ("b")']);
  });
});
