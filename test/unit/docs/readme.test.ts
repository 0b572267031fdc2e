// The README's promises, run: every command in its code blocks is either run here against the
// simulator (the CLI examples, the simulator session, the settings example through the schema) or
// named in .ci/run (install, start's smoke mode, test, package) — a new command in the README that
// nothing runs fails this test. Inline `npm run X` and `npm start -- --flag` mentions are checked
// against package.json and start's own option parser.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../../src/core/config/schema';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const CI = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');

interface Block {
  lang: string;
  body: string;
}

function codeBlocks(md: string): Block[] {
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** A console block's commands (`$ cmd`) with the output shown under each. */
function consoleSteps(body: string): Array<{ cmd: string; output: string }> {
  const steps: Array<{ cmd: string; output: string[] }> = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ cmd: line.slice(2), output: [] });
    else if (steps.length > 0 && line !== '') steps[steps.length - 1].output.push(line);
  }
  return steps.map((s) => ({ cmd: s.cmd, output: s.output.join('\n') }));
}

/** A bash block's commands, comments stripped. */
function bashCommands(body: string): string[] {
  return body.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !l.startsWith('#'));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', cmd], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const blocks = codeBlocks(README);

describe('README, run', function () {
  this.timeout(120_000);
  let work: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'maof-readme-'));
    // The CLI examples run from the repository's root in the README: `dist` is the same here.
    fs.symlinkSync(path.join(ROOT, 'dist'), path.join(work, 'dist'));
    const home = path.join(work, 'home');
    fs.mkdirSync(home);
    env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), NO_COLOR: '1' };
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('has the blocks this test knows how to run', () => {
    assert.deepEqual(blocks.map((b) => b.lang), ['bash', 'bash', 'json', 'bash', 'console', 'console', 'console'], 'a code block was added or removed: teach this test to run it');
  });

  it('runs the `maof usage` transcript in test/unit/cli/readmeUsage.test.ts', () => {
    const commands = consoleSteps(blocks[6].body).map((s) => s.cmd);
    assert.ok(commands.some((c) => c.includes('dist/cli.js usage')), `the seventh block is the usage transcript: ${commands.join(' | ')}`);
    const runner = fs.readFileSync(path.join(ROOT, 'test', 'unit', 'cli', 'readmeUsage.test.ts'), 'utf8');
    assert.match(runner, /README/);
  });

  it('runs the `maof breakers` transcript in test/unit/cli/readmeBreakers.test.ts', () => {
    const commands = consoleSteps(blocks[5].body).map((s) => s.cmd);
    assert.ok(commands.some((c) => c.includes('dist/cli.js breakers')), `the sixth block is the breakers transcript: ${commands.join(' | ')}`);
    const runner = fs.readFileSync(path.join(ROOT, 'test', 'unit', 'cli', 'readmeBreakers.test.ts'), 'utf8');
    assert.match(runner, /README/);
  });

  it('runs the set-up, start and test commands in CI (`npm ci` installs what `npm install` does, from the lockfile)', () => {
    const ciCommands = bashCommands(CI);
    const inCi = (cmd: string): boolean => ciCommands.some((c) => c === cmd || c.startsWith(`${cmd} `));
    for (const block of [blocks[0], blocks[1]]) {
      for (const cmd of bashCommands(block.body)) {
        const ciForm = cmd === 'npm install' ? 'npm ci' : cmd === 'npm start' ? 'npm start -- --smoke' : cmd;
        assert.ok(inCi(ciForm), `.ci/run does not run "${ciForm}" (README: ${cmd})`);
      }
    }
    assert.ok(inCi('npm run package'), '.ci/run packages the extension as the README says');
    for (const m of README.matchAll(/`npx tsx (scripts\/[\w.-]+)/g)) assert.ok(CI.includes(`npx tsx ${m[1]}`), `.ci/run does not run ${m[1]}, which the README shows`);
  });

  it('names only npm scripts that exist and start options that `npm start` accepts', () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const named = [...README.matchAll(/`npm run ([\w:-]+)/g)].map((m) => m[1]);
    assert.ok(named.length >= 5, 'the README names its scripts');
    for (const s of named) assert.ok(scripts.includes(s), `README names \`npm run ${s}\`, which package.json does not have`);
    for (const m of README.matchAll(/`npm start -- ([^`]+)`/g)) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts'), ...m[1].split(/\s+/), '--check-args'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `\`npm start -- ${m[1]}\` is refused: ${r.stderr}`);
    }
  });

  it('the settings example parses through the settings schema with no problem', () => {
    const settings = JSON.parse(blocks[2].body) as Record<string, unknown>;
    const config = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k.replace(/^maof\./, ''), v]));
    const parsed = parseConfig(config);
    assert.deepEqual(parsed.issues, []);
    assert.ok(parsed.config.agents.some((a) => a.id === 'local'), 'the example agent is kept');
    assert.deepEqual(parsed.config.routes.code, ['claude-sonnet', 'gpt-4.1', 'local']);
  });

  describe('the simulator session', () => {
    const steps = consoleSteps(blocks[4].body);
    let port: number;
    let sim: ReturnType<typeof spawn> | undefined;
    const local = (s: string): string => s.replaceAll('8787', String(port));

    before(async () => {
      port = await freePort();
    });
    after(() => {
      sim?.kill();
    });

    it('starts the simulator, which prints its addresses', async () => {
      const start = steps[0];
      assert.match(start.cmd, /^node dist\/simulator\.js --port 8787 &$/);
      sim = spawn('bash', ['-c', local(start.cmd.replace(/ &$/, ''))], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        sim!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        sim!.once('exit', (code) => reject(new Error(`the simulator exited (${String(code)})`)));
      });
      assert.deepEqual(JSON.parse(first), JSON.parse(local(start.output)));
    });

    it('reads the config shown, sets a fault plan, and answers as shown', () => {
      const [, cat, plan, ask] = steps;
      assert.equal(cat.cmd, 'cat sim.json');
      fs.writeFileSync(path.join(work, 'sim.json'), local(cat.output));
      assert.equal(sh(cat.cmd, work, env).stdout.trim(), local(cat.output).trim());
      const planned = sh(local(plan.cmd), work, env);
      assert.equal(planned.code, 0, planned.stderr);
      const r = sh(ask.cmd, work, env);
      assert.equal(r.code, 0, r.stderr);
      // Time at the provider differs run to run: a number in both, its value not compared.
      const timeless = (text: string): Record<string, unknown> => JSON.parse(text, (k, v: unknown) => (k === 'elapsedMs' ? (typeof v === 'number' ? 'a number' : v) : v)) as Record<string, unknown>;
      const got = timeless(r.stdout);
      const shown = timeless(ask.output);
      // Everything else the README shows, to the token and the cent.
      assert.deepEqual(got, shown);
      assert.equal(steps.length, 4, 'a step was added to the session: run it here');
    });

    it('answers with every agent of the config shown (either wire format, no key)', () => {
      const config = JSON.parse(local(steps[1].output)) as { agents: Array<{ id: string }>; routes: Record<string, string[]> };
      for (const agent of config.agents) {
        const r = sh(`node dist/cli.js ask --config sim.json --agent ${agent.id} --json "hello from the README test"`, work, env);
        const out = JSON.parse(r.stdout) as { ok: boolean; agent?: string; error?: { code: string; message: string } };
        assert.equal(out.ok, true, `agent ${agent.id}: ${JSON.stringify(out.error)}`);
        assert.equal(out.agent, agent.id);
      }
      for (const task of Object.keys(config.routes)) {
        const r = sh(`node dist/cli.js ask --config sim.json --task ${task} --json "hello"`, work, env);
        assert.equal((JSON.parse(r.stdout) as { agent?: string }).agent, config.routes[task][0], `task ${task} is answered by its primary`);
      }
    });
  });

  describe('the CLI examples', () => {
    const cmds = bashCommands(blocks[3].body);
    let simProcess: ReturnType<typeof spawn> | undefined;

    before(async () => {
      // The README's examples use the built-in agents with the user's keys; here the user's config
      // file points those same agent ids at a simulator (a loopback endpoint takes provider keys),
      // and, like the real endpoints, each needs a key.
      const port = await freePort();
      simProcess = spawn(process.execPath, [path.join(ROOT, 'dist', 'simulator.js'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((resolve) => simProcess!.stdout!.once('data', () => resolve()));
      const dir = path.join(env.XDG_CONFIG_HOME!, 'maof');
      fs.mkdirSync(dir, { recursive: true });
      const agents = [
        { id: 'gpt-4.1', provider: 'openai', model: 'gpt-4.1', baseUrl: `http://127.0.0.1:${port}/v1`, contextWindow: 1_000_000, requiresKey: true },
        { id: 'gpt-4.1-mini', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `http://127.0.0.1:${port}/v1`, contextWindow: 1_000_000, requiresKey: true },
        { id: 'claude-sonnet', provider: 'anthropic', model: 'claude-sonnet-5-5', baseUrl: `http://127.0.0.1:${port}`, contextWindow: 1_000_000 },
        { id: 'claude-haiku', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: `http://127.0.0.1:${port}`, contextWindow: 200_000 },
      ];
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ agents }));
      fs.writeFileSync(path.join(work, 'prompts.jsonl'), '{"prompt": "a binary search", "task": "code"}\n{"prompt": "summarise a changelog", "task": "writing"}\n');
    });
    after(() => {
      simProcess?.kill();
    });

    it('builds, then asks and batches with keys from the environment', () => {
      assert.deepEqual(cmds.map((c) => c.split(' ').slice(0, 3).join(' ')), [
        'npm run build',
        'export OPENAI_API_KEY=… ANTHROPIC_API_KEY=…',
        'node dist/cli.js ask',
        'node dist/cli.js ask',
        'node dist/cli.js batch',
      ]);
      const build = sh(cmds[0], ROOT, { ...process.env });
      assert.equal(build.code, 0, build.stderr);
      const keyed = { ...env, OPENAI_API_KEY: 'sk-readme-test-openai-000000000000', ANTHROPIC_API_KEY: 'sk-ant-readme-test-00000000000000' };
      const code = sh(cmds[2], work, keyed);
      assert.equal(code.code, 0, code.stderr);
      assert.match(code.stdout, /Simulated .* reply: a TypeScript function that debounces another/);
      const json = sh(cmds[3], work, keyed);
      assert.equal(json.code, 0, json.stderr);
      const answer = JSON.parse(json.stdout) as { ok: boolean; costUsd: number };
      assert.equal(answer.ok, true);
      assert.ok(answer.costUsd > 0, 'the answer is priced');
      const batch = sh(cmds[4], work, keyed);
      assert.equal(batch.code, 0, batch.stderr);
      const lines = batch.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; task: string });
      assert.deepEqual(lines.map((l) => [l.ok, l.task]).sort(), [[true, 'code'], [true, 'writing']]);
      // Without the keys the same command fails and says which variable to set.
      const keyless = sh(cmds[2], work, env);
      assert.notEqual(keyless.code, 0);
      assert.match(keyless.stderr, /OPENAI_API_KEY|ANTHROPIC_API_KEY/);
    });
  });
});
