import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore } from '../../../src/core/persistence/fileStateStore';

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

  it('moves a corrupt file aside and starts empty, with a warning', () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"maof.ledger.v1": {"entr');
    const warnings: string[] = [];
    const s = new FileStateStore(file, { trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} });
    assert.equal(s.get('maof.ledger.v1'), undefined);
    assert.equal(warnings.length, 1);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-')));
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
