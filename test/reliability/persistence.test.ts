// R6: what MAOF must remember survives: spend accumulates and an open breaker stays open across
// restarts of the built CLI (same MAOF_STATE_DIR), a persisted budget still binds after a restart,
// and a process killed (SIGKILL) in the middle of writing its state never leaves a torn file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { LEDGER_STATE_KEY } from '../../src/core/cost/costLedger';
import { mulberry32 } from '../../src/simulator/faultPlan';
import { bump, record, ROOT, tempDir } from './support/runContext';
import { relConfig, simulatorPerSuite } from './support/pipeline';
import { cliBinary, cliEnv, jsonLines, runCli, writeCliConfig } from './support/cli';
import { readPersisted } from './support/persistedState';
import { COST_PER_ENTRY_USD, PADDING_CHARS } from './support/stateWriterChild';

const KILLS = 6;

interface AskLine {
  ok: boolean;
  agent?: string;
  costUsd?: number;
  attempts: Array<{ agent: string; outcome: string }>;
  error?: { code: string; message: string };
}

describe('R6 persistence: ledger and breakers survive restarts and crashes', function () {
  const { sim, addr } = simulatorPerSuite();

  it('the built CLI, run five times over one state dir: spend accumulates, the open breaker stays open, the budget still binds', async function () {
    this.timeout(120_000);
    cliBinary();
    const dir = tempDir('r6-restarts');
    const stateFile = path.join(dir, 'state.json');
    const base = relConfig(addr(), { breaker: { failureThreshold: 2, resetTimeoutMs: 3_600_000 } });
    const configFile = writeCliConfig(path.join(dir, 'config.json'), base, { budget: { monthlyUsd: 10 } });
    const ask = async (label: string, prompt: string, file = configFile): Promise<AskLine> => {
      const r = await runCli(label, ['ask', '--json', '--task', 'code', '--config', file, prompt], cliEnv(dir));
      const [line] = jsonLines(r.stdout) as unknown as AskLine[];
      assert.ok(line, `one JSON line (stderr: ${r.stderr})`);
      assert.equal(r.code, line.ok ? 0 : 1);
      bump('R6', 'restarts');
      return line;
    };
    const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-7, `${what}: ${a} vs ${b}`);

    // 1 and 2: spend adds up across processes.
    const one = await ask('r6-1', 'restart one');
    assert.equal(one.agent, 'oa');
    const afterOne = readPersisted(stateFile);
    close(afterOne.monthUsd, one.costUsd!, 'spend after run 1');
    assert.equal(afterOne.requests, 1);
    const two = await ask('r6-2', 'restart two');
    const afterTwo = readPersisted(stateFile);
    close(afterTwo.monthUsd, one.costUsd! + two.costUsd!, 'spend after run 2');
    assert.equal(afterTwo.requests, 2);

    // 3: OpenAI fails; the breaker opens and the answer comes from the fallback.
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 100 }]);
    const three = await ask('r6-3', 'restart three');
    assert.equal(three.agent, 'an');
    assert.deepEqual(
      three.attempts.map((a) => [a.agent, a.outcome]),
      [
        ['oa', 'UPSTREAM'],
        ['oa', 'UPSTREAM'],
        ['oa', 'CIRCUIT_OPEN'],
        ['an', 'ok'],
      ],
    );
    const afterThree = readPersisted(stateFile);
    assert.equal(afterThree.breakers.oa, 'open');
    close(afterThree.monthUsd, one.costUsd! + two.costUsd! + three.costUsd!, 'spend after run 3');

    // 4: a new process, OpenAI healthy again — but the breaker it remembers is open: not one request to OpenAI.
    await sim.quiesce();
    sim.reset();
    const four = await ask('r6-4', 'restart four');
    assert.deepEqual(
      four.attempts.map((a) => [a.agent, a.outcome]),
      [
        ['oa', 'CIRCUIT_OPEN'],
        ['an', 'ok'],
      ],
    );
    await sim.quiesce();
    assert.equal(sim.requestsBy('openai'), 0, 'the restarted CLI sent nothing to the open agent');
    const afterFour = readPersisted(stateFile);
    assert.equal(afterFour.breakers.oa, 'open');
    assert.equal(afterFour.requests, 4);
    const spent = one.costUsd! + two.costUsd! + three.costUsd! + four.costUsd!;
    close(afterFour.monthUsd, spent, 'spend after run 4');

    // 5: a monthly limit just under what was spent in earlier processes refuses the next request.
    const tight = writeCliConfig(path.join(dir, 'tight.json'), base, { budget: { monthlyUsd: Math.floor(spent * 1e6) / 1e6 } });
    sim.reset();
    const five = await ask('r6-5', 'restart five', tight);
    assert.equal(five.ok, false);
    assert.equal(five.error?.code, 'BUDGET_EXCEEDED');
    assert.match(five.error?.message ?? '', /Monthly budget of .* reached/);
    assert.equal(sim.tally().requests, 0, 'refused before sending');
    close(readPersisted(stateFile).monthUsd, spent, 'spend unchanged by a refusal');
  });

  it(`a writer killed with SIGKILL mid-write, ${KILLS} times: the file always parses and holds a complete earlier state`, async function () {
    this.timeout(120_000);
    const dir = tempDir('r6-kill');
    const file = path.join(dir, 'state.json');
    const child = path.join(tempDir('r6-kill-build', { scan: false }), 'stateWriter.js');
    buildSync({ entryPoints: [path.join(ROOT, 'test/reliability/support/stateWriterChild.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: child, logLevel: 'silent' });
    const random = mulberry32(0x5eed);
    let survived = 0;
    let lastAck = 0;
    let tornTempFiles = 0;

    for (let k = 0; k < KILLS; k++) {
      const acked = await new Promise<{ start: number; last: number }>((resolve, reject) => {
        const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let start = -1;
        let last = -1;
        let buffer = '';
        let stderr = '';
        let armed = false;
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        proc.stdout.on('data', (d: Buffer) => {
          buffer += d.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const l of lines) {
            const [word, n] = l.split(' ');
            if (word === 'start') start = Number(n);
            if (word === 'ack') last = Number(n);
          }
          // Kill at a random moment once this writer has put at least one state on disk.
          if (last >= 0 && !armed) {
            armed = true;
            setTimeout(() => proc.kill('SIGKILL'), 5 + Math.floor(random() * 250));
          }
        });
        proc.on('error', reject);
        proc.on('close', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${code}): ${stderr}`));
          else resolve({ start, last });
        });
      });

      assert.equal(acked.start, lastAck, 'the restarted writer found the last acknowledged state (or later)');
      const state = readPersisted(file);
      assert.deepEqual(state.warnings, [], 'the ledger loads without salvaging anything');
      assert.ok(state.requests >= acked.last, `at least every acknowledged write is there (${state.requests} ≥ ${acked.last})`);
      assert.ok(state.requests <= acked.last + 1, 'and at most the one write in flight');
      assert.equal(Math.round(state.monthUsd / COST_PER_ENTRY_USD), state.requests, 'totals agree with the entries: one complete state');
      const entries = (state.raw[LEDGER_STATE_KEY] as { entries: unknown[] }).entries;
      assert.equal(entries.length, Math.min(state.requests, 500));
      assert.equal((state.raw.padding as string).length, PADDING_CHARS, 'the big value is whole');
      tornTempFiles = readdirSync(dir).filter((f) => f.endsWith('.tmp')).length;
      lastAck = state.requests;
      survived++;
      bump('R6', 'killsSurvived');
    }
    assert.equal(survived, KILLS);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.corrupt-')),
      [],
      'no state file was ever found unreadable',
    );
    record('R6', { kills: KILLS, strayTempFiles: tornTempFiles });
  });

  it('an unreadable (a directory in its place) or garbage state file is never overwritten: paid requests are refused under a budget, the user is told on stderr, and everything is back once it reads again', async function () {
    this.timeout(120_000);
    cliBinary();
    const dir = tempDir('r6-unreadable');
    const stateFile = path.join(dir, 'maof.db');
    const base = relConfig(addr(), { breaker: { failureThreshold: 2, resetTimeoutMs: 3_600_000 } });
    const limited = writeCliConfig(path.join(dir, 'limited.json'), base, { budget: { monthlyUsd: 10 } });
    const unlimited = writeCliConfig(path.join(dir, 'unlimited.json'), base);
    const ask = async (label: string, file: string): Promise<{ line: AskLine; stderr: string }> => {
      const r = await runCli(label, ['ask', '--json', '--task', 'code', '--config', file, label], cliEnv(dir));
      const [line] = jsonLines(r.stdout) as unknown as AskLine[];
      assert.ok(line, `one JSON line (stderr: ${r.stderr})`);
      return { line, stderr: r.stderr };
    };

    // A real history: one paid request, then OpenAI fails until its breaker is open.
    sim.reset();
    const first = await ask('r6u-first', limited);
    assert.equal(first.line.ok, true);
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 100 }]);
    const tripped = await ask('r6u-trip', limited);
    assert.equal(tripped.line.agent, 'an');
    await sim.quiesce();
    sim.reset();
    const good = readPersisted(stateFile);
    assert.equal(good.breakers.oa, 'open');
    const goodBytes = readFileSync(stateFile);

    for (const damage of ['garbage', 'directory'] as const) {
      rmSync(stateFile, { recursive: true, force: true });
      if (damage === 'garbage') writeFileSync(stateFile, '{"maof.ledger.v1": {"v": 1, "byDay": {"2026-'.repeat(200));
      else mkdirSync(stateFile);
      const before = damage === 'garbage' ? readFileSync(stateFile, 'utf8') : '';

      const refused = await ask(`r6u-${damage}-limited`, limited);
      assert.equal(refused.line.ok, false);
      assert.equal(refused.line.error?.code, 'BUDGET_EXCEEDED');
      assert.ok(refused.line.error?.message.includes(stateFile), `names the state file: ${refused.line.error?.message}`);
      assert.match(refused.line.error?.message ?? '', damage === 'garbage' ? /integrity check: SQLITE_NOTADB.*move .*maof\.db away to start from \$0/ : /SQLITE_CANTOPEN.*fix the file's permissions or disk and run maof again, or move .*maof\.db away/);
      assert.equal(refused.stderr.split('\n').filter((l) => l.startsWith('maof: MAOF')).length, 1, `told once on stderr: ${refused.stderr}`);
      await sim.quiesce();
      assert.equal(sim.tally().requests, 0, 'nothing was sent that the budget could not check');

      // No limit: nothing to enforce, the request runs and a breaker trips — in memory only.
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 100 }]);
      const free = await ask(`r6u-${damage}-unlimited`, unlimited);
      assert.equal(free.line.ok, true);
      await sim.quiesce();
      sim.reset();
      if (damage === 'garbage') assert.equal(readFileSync(stateFile, 'utf8'), before, 'the garbage file is untouched');
      else assert.ok(statSync(stateFile).isDirectory(), 'the directory is untouched');
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('maof.db.')), [], 'nothing moved aside or left behind');
      bump('R6', 'unreadableKept');
    }

    // The user puts the real file back: the spend and the open breaker are all there.
    rmSync(stateFile, { recursive: true, force: true });
    writeFileSync(stateFile, goodBytes);
    const back = await ask('r6u-back', limited);
    assert.equal(back.line.ok, true);
    assert.deepEqual(back.line.attempts.map((a) => [a.agent, a.outcome]), [['oa', 'CIRCUIT_OPEN'], ['an', 'ok']], 'the open breaker was remembered');
    const after = readPersisted(stateFile);
    assert.equal(after.requests, good.requests + 1);
    assert.ok(Math.abs(after.monthUsd - (good.monthUsd + back.line.costUsd!)) < 1e-7, 'spend history kept and added to');
  });
});
