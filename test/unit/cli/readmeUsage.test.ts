// Runs README's `maof usage` transcript as written (asks against the simulator, then the usage
// table and a bad flag) so the README cannot drift from what the CLI prints. Dates are this run's:
// a month or day in the README matches any month or day.
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

function consoleBlocks(readme: string): Step[][] {
  const blocks: Step[][] = [];
  for (const m of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    const steps: Step[] = [];
    for (const line of m[1].split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
      else if (steps.length > 0) steps[steps.length - 1].output.push(line);
    }
    for (const s of steps) while (s.output.length > 0 && s.output[s.output.length - 1] === '') s.output.pop();
    blocks.push(steps);
  }
  return blocks;
}

function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

const undated = (line: string): string => line.replace(/\b\d{4}-\d{2}-\d{2}\b/g, 'YYYY-MM-DD').replace(/\b\d{4}-\d{2}\b/g, 'YYYY-MM').trimEnd();

describe("README's `maof usage` example, run as written", function () {
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
    const transcript = blocks.find((b) => b.some((s) => s.command.includes('dist/cli.js usage')));
    assert.ok(setup && transcript, 'README has the simulator setup and the usage transcript');
    const simJson = setup.find((s) => s.command === 'cat sim.json')!.output.join('\n');
    const addr = await sim.start();
    const port = new URL(addr.openaiBaseUrl).port;
    dir = mkdtempSync(join(tmpdir(), 'maof-readme-usage-'));
    writeFileSync(join(dir, 'sim.json'), simJson.replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`));
    const env = { MAOF_STATE_DIR: dir, MAOF_HOME: dir, HOME: dir, PATH: process.env.PATH ?? '' };

    let usageRuns = 0;
    for (const step of transcript) {
      const words = shellWords(step.command);
      const quiet = words.includes('2>/dev/null');
      assert.deepEqual(words.slice(0, 2), ['node', 'dist/cli.js'], `README runs the CLI as node dist/cli.js: ${step.command}`);
      const args = words.slice(2).filter((w) => w !== '2>/dev/null').map((w) => (w === 'sim.json' ? join(dir, 'sim.json') : w));
      let stdout = '';
      let stderr = '';
      await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
      if (args[0] === 'usage') usageRuns++;
      const printed = `${stdout}${quiet ? '' : stderr}`.trimEnd().split('\n').map(undated);
      assert.deepEqual(printed, step.output.map(undated), `what \`${step.command}\` prints (stderr: ${stderr})`);
    }
    assert.equal(usageRuns, 2, 'the usage commands ran');
    assert.equal(sim.tally().requests, 3, 'the three asks, and nothing else, reached the provider');
  });
});
