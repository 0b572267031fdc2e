// Issue 10 §3: the terminal shows one answer. The built CLI, a stream cut mid-way and retried:
// to a pipe or a file it writes the final answer alone; on a terminal (a real pty through
// `script`, the screen rendered by xterm's headless terminal) the screen ends with the final
// answer alone, the partial attempt erased; --json is unaffected.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Terminal } from '@xterm/headless';
import type { SimulatorAddress } from '../../src/simulator/providerSimulator';
import { bump, leaks, tempDir } from './support/runContext';
import { CountedSimulator, relConfig } from './support/pipeline';
import { cliBinary, cliEnv, jsonLines, runCli, writeCliConfig } from './support/cli';

const PROMPT = 'write a tokenizer [[words:40]]';
const ANSWER_START = 'Simulated gpt-4.1-mini reply: write a tokenizer';

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Runs the built CLI on a pseudo-terminal of `cols` × `rows`; returns every byte it wrote there. */
function runOnTty(args: string[], env: NodeJS.ProcessEnv, cols: number, rows: number): Promise<{ code: number | null; raw: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${cols} rows ${rows}; exec ${[process.execPath, cliBinary(), ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    // util-linux script: -q quiet, -f flush, -e exit code of the child, -c the command; the pty's transcript goes to stdout.
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (raw += d));
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      leaks.scan('cli-tty', raw);
      resolve({ code, raw });
    });
  });
}

/** The screen a terminal shows after `raw`, as trimmed lines without the empty ones at the end. */
async function render(raw: string, cols: number, rows: number): Promise<string[]> {
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  // A pty turns \n into \r\n already; xterm needs it that way too.
  await new Promise<void>((resolve) => term.write(raw, resolve));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
  term.dispose();
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  return lines;
}

describe('R10 the terminal shows one answer: a cut and retried stream through the built CLI', function () {
  this.timeout(60_000);
  const sim = new CountedSimulator();
  let addr: SimulatorAddress;
  let config: string;
  let dir: string;

  before(async () => {
    addr = await sim.start();
    dir = tempDir('r10-terminal');
    config = writeCliConfig(path.join(dir, 'config.json'), relConfig(addr));
    cliBinary();
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(async () => {
    await sim.quiesce();
    sim.reset();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'passed') bump('R10', 'passed');
  });

  const cut = () => sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'reset_mid_stream', afterChunks: 3 } }]);

  it('to a pipe: only the final answer, once', async () => {
    cut();
    const r = await runCli('r10-pipe', ['ask', '--task', 'code', '--config', config, PROMPT], cliEnv(dir));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sim.tally().requests, 2, 'the stream was cut and retried');
    assert.equal(count(r.stdout, ANSWER_START), 1, `one answer on stdout:\n${r.stdout}`);
    assert.ok(r.stdout.startsWith(ANSWER_START) && r.stdout.endsWith('\n'), r.stdout);
    assert.ok(!r.stdout.includes('\x1b'), 'no terminal control sequences in a pipe');
  });

  it('to a file (maof ask … > out.txt): the final answer alone', async () => {
    cut();
    const file = path.join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [cliBinary(), 'ask', '--task', 'code', '--config', config, PROMPT], { env: cliEnv(dir), stdio: ['ignore', fd, 'ignore'] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    closeSync(fd);
    const text = readFileSync(file, 'utf8');
    leaks.scan('cli-file', text);
    assert.equal(code, 0);
    assert.equal(sim.tally().requests, 2);
    assert.equal(count(text, ANSWER_START), 1, text);
  });

  it('--json: one object with the whole answer and both attempts', async () => {
    cut();
    const r = await runCli('r10-json', ['ask', '--json', '--task', 'code', '--config', config, PROMPT], cliEnv(dir));
    const [obj] = jsonLines(r.stdout);
    assert.equal(obj?.ok, true);
    assert.equal(count(String(obj?.text), ANSWER_START), 1);
    assert.deepEqual((obj?.attempts as Array<{ outcome: string }>).map((a) => a.outcome), ['NETWORK', 'ok']);
  });

  it('on a terminal: the partial attempt is shown, then erased; the screen ends with the final answer alone', async () => {
    cut();
    const cols = 100;
    const rows = 40;
    const r = await runOnTty(['ask', '--task', 'code', '--config', config, PROMPT], cliEnv(dir, { TERM: 'xterm' }), cols, rows);
    assert.equal(r.code, 0, r.raw);
    assert.equal(sim.tally().requests, 2);
    assert.equal(count(r.raw, ANSWER_START), 2, 'the first attempt streamed to the terminal before the cut');
    const screen = await render(r.raw, cols, rows);
    const shown = screen.join('\n');
    assert.equal(count(shown, ANSWER_START), 1, `one answer on the screen:\n${shown}`);
    assert.ok(!shown.includes('retrying with'), `the restart note gave way to the answer:\n${shown}`);
    assert.match(screen[screen.length - 1] ?? '', /^\[maof\] oa · code · /, 'the summary line ends the screen');
  });
});
