// Runs README's `maof breakers` transcript as written (simulator plan, CLI commands, printed tables)
// against a live simulator, so the README cannot drift from what the CLI does.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { ProviderSimulator } from '../../../src/simulator/providerSimulator';

interface Step {
  command: string;
  output: string[];
}

/** The README's console blocks, each as commands (`$ …`) with the lines printed after them. */
function consoleBlocks(readme: string): Step[][] {
  const blocks: Step[][] = [];
  for (const m of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    const steps: Step[] = [];
    for (const line of m[1].split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
      else if (line !== '' && steps.length > 0) steps[steps.length - 1].output.push(line);
    }
    blocks.push(steps);
  }
  return blocks;
}

/** Splits a command line the way a POSIX shell does for the plain quoting README uses. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** Durations depend on how long the run took: "59 s" and "58 s" are the same line. */
function normalise(line: string): string {
  return line.replace(/\b\d+(\.\d+)? (ms|s|min)( \d+ s)?\b/g, '<time>').trimEnd();
}

describe("README's `maof breakers` example, run as written", function () {
  this.timeout(30_000);
  const sim = new ProviderSimulator();
  let dir: string;
  after(async () => {
    await sim.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints what README shows, command by command', async () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const blocks = consoleBlocks(readme);
    const setup = blocks.find((b) => b.some((s) => s.command === 'cat sim.json'));
    const transcript = blocks.find((b) => b.some((s) => s.command.includes('dist/cli.js breakers')));
    assert.ok(setup && transcript, 'README has the simulator setup and the breakers transcript');
    const simJson = setup.find((s) => s.command === 'cat sim.json')!.output.join('\n');

    const addr = await sim.start();
    const port = new URL(addr.openaiBaseUrl).port;
    const here = (text: string): string => text.replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`);
    dir = mkdtempSync(join(tmpdir(), 'maof-readme-'));
    writeFileSync(join(dir, 'sim.json'), here(simJson));
    const env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, PATH: process.env.PATH ?? '' };

    let cliCommands = 0;
    for (const step of transcript) {
      const words = shellWords(here(step.command)).filter((w) => w !== '2>/dev/null');
      if (words[0] === 'curl') {
        const url = words.find((w) => w.includes('/__sim/plan'));
        const body = words[words.indexOf('-d') + 1];
        assert.ok(url && body, `a curl README shows: ${step.command}`);
        const res = await fetch(`http://${url}`, { method: 'POST', body });
        assert.equal(res.status, 200, await res.text());
        continue;
      }
      assert.deepEqual(words.slice(0, 2), ['node', 'dist/cli.js'], `README runs the CLI as node dist/cli.js: ${step.command}`);
      const args = words.slice(2).map((w) => (w === 'sim.json' ? join(dir, 'sim.json') : w));
      let stdout = '';
      let stderr = '';
      await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
      cliCommands++;
      const printed = stdout.split('\n').filter((l) => l !== '').map(normalise);
      assert.deepEqual(printed, step.output.map(normalise), `stdout of \`${step.command}\` (stderr: ${stderr})`);
    }
    assert.ok(cliCommands >= 4, 'the transcript was run');
    // What the prose promises: the second ask sent two requests and the breaker stopped the third.
    assert.equal(sim.tally().requests, 5);
  });
});
