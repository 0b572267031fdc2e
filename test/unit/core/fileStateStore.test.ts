import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore } from '../../../src/core/persistence/fileStateStore';
import type { Logger } from '../../../src/core/ports';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, trace() {}, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
}

/** What readFileSync throws for an unreadable file (chmod 000 does not stop root, so it is injected). */
function failing(code: string): never {
  throw Object.assign(new Error(`${code}: simulated`), { code });
}

describe('FileStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maof-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart', async () => {
    const file = join(dir, 'state.json');
    const a = new FileStateStore(file);
    await a.update('k', { n: 1 });
    await a.update('k', { n: 2 });
    await a.flush();
    const b = new FileStateStore(file);
    assert.deepEqual(b.get('k'), { n: 2 });
  });

  it('coalesces bursts of writes and leaves no temp files', async () => {
    const file = join(dir, 'state.json');
    const s = new FileStateStore(file);
    const writes = Array.from({ length: 200 }, (_, i) => s.update('n', i));
    await Promise.all(writes);
    await s.flush();
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).n, 199);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('a missing file is empty state and the first update creates it', async () => {
    const file = join(dir, 'state.json');
    const s = new FileStateStore(file);
    assert.equal(s.problem, undefined);
    assert.equal(s.get('k'), undefined);
    await s.update('k', 1);
    await s.flush();
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { k: 1 });
  });

  for (const code of ['EACCES', 'EIO']) {
    it(`a file that cannot be read (${code}) is never overwritten and is reported once, with the fix`, async () => {
      const file = join(dir, 'state.json');
      writeFileSync(file, JSON.stringify({ 'maof.ledger.v1': { v: 1, month: '2025-06', byDay: { '2025-06-15': 5e9 } } }));
      const before = readFileSync(file, 'utf8');
      const logger = recordingLogger();
      const s = new FileStateStore(file, logger, { readFile: () => failing(code), resetHint: 'run "MAOF: Reset Spend History"' });
      assert.equal(s.problem?.kind, 'unreadable');
      assert.equal(s.problem?.code, code);
      assert.match(s.problem?.message ?? '', new RegExp(`${code}.*fix the file's permissions.*restart MAOF, or run "MAOF: Reset Spend History" to start from \\$0`));
      assert.equal(logger.warnings.length, 1, 'told once');
      await s.update('maof.ledger.v1', { v: 1, month: '2025-06', byDay: {} });
      await s.update('maof.breakers.v1', {});
      await s.flush();
      assert.equal(readFileSync(file, 'utf8'), before, 'the unreadable ledger is untouched');
      assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file, nothing moved');
      assert.equal(logger.warnings.length, 1, 'updates do not repeat the warning');
    });
  }

  it('a directory in place of the file (EISDIR) is unreadable, not empty', async () => {
    const file = join(dir, 'state.json');
    mkdirSync(file);
    const s = new FileStateStore(file, recordingLogger());
    assert.equal(s.problem?.kind, 'unreadable');
    assert.equal(s.problem?.code, 'EISDIR');
    await s.update('k', 1);
    await s.flush();
    assert.ok(statSync(file).isDirectory(), 'still the directory');
  });

  it('a garbage file is left as it is, reported once, and not overwritten by later updates', async () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"maof.ledger.v1": {"entr');
    const logger = recordingLogger();
    const s = new FileStateStore(file, logger);
    assert.equal(s.get('maof.ledger.v1'), undefined);
    assert.equal(s.problem?.kind, 'corrupt');
    assert.match(s.problem?.message ?? '', /not valid JSON.*restore the file from a backup/);
    assert.equal(logger.warnings.length, 1);
    await s.update('maof.ledger.v1', { v: 1 });
    await s.flush();
    assert.equal(readFileSync(file, 'utf8'), '{"maof.ledger.v1": {"entr');
    assert.deepEqual(readdirSync(dir), ['state.json'], 'nothing moved aside without the user asking');
  });

  it('valid JSON that is not an object counts as damaged too', () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, '[1,2,3]');
    assert.equal(new FileStateStore(file, recordingLogger()).problem?.kind, 'corrupt');
  });

  it('reset() moves the unusable file aside, logs where, and saves what the session holds', async () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, 'garbage');
    const logger = recordingLogger();
    const s = new FileStateStore(file, logger);
    await s.update('k', { n: 7 });
    const result = await s.reset();
    assert.equal(result.ok, true);
    const movedTo = result.ok ? (result.movedTo ?? '') : '';
    assert.ok(movedTo.startsWith(`${file}.corrupt-`), movedTo);
    assert.equal(readFileSync(movedTo, 'utf8'), 'garbage', 'the old bytes are kept for the user');
    assert.equal(s.problem, undefined);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { k: { n: 7 } });
    assert.ok(logger.warnings.some((w) => w.includes(movedTo)), 'the log says where');
  });

  it('reset() that cannot move the file says so, does not claim a move, and still writes nothing', async () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, 'garbage');
    const logger = recordingLogger();
    const s = new FileStateStore(file, logger, { rename: () => Promise.reject(Object.assign(new Error('EACCES: simulated'), { code: 'EACCES' })) });
    await s.update('k', 1);
    const result = await s.reset();
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /could not move .* aside \(EACCES\) — move or delete it yourself/);
    assert.ok(!logger.warnings.some((w) => /moved aside to/.test(w)), 'no claim of a move that did not happen');
    assert.equal(s.problem?.kind, 'corrupt');
    await s.flush();
    assert.equal(readFileSync(file, 'utf8'), 'garbage');
  });

  it('a crash between temp write and rename leaves the old state readable', async () => {
    const file = join(dir, 'state.json');
    const s = new FileStateStore(file);
    await s.update('v', 'old');
    await s.flush();
    // Simulate a crash mid-write: a half-written temp file next to the real one.
    writeFileSync(`${file}.999.deadbeef.tmp`, '{"v": "ne');
    assert.equal(new FileStateStore(file).get('v'), 'old');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'the dead writer’s temp file is cleaned up');
  });
});
