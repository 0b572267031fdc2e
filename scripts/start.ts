// `npm start`: build, start the loopback provider simulator, and serve MAOF in a real VS Code
// (code-server) on 127.0.0.1 with a sample workspace; prints the URL to open.
//
//   npm start                      simulator agents (chaos 0.05: some retries and fallbacks to watch)
//   npm start -- --chaos 0.3       more faults
//   npm start -- --real            built-in agents against the real providers; keys from
//                                  OPENAI_API_KEY / ANTHROPIC_API_KEY are offered to SecretStorage
//   npm start -- --screenshot      also open it in headless Chromium and save a screenshot
//   npm start -- --smoke           the same, then headless Chromium opens the URL, waits for MAOF in
//                                  the status bar, asks the chat one question, prints what it saw and
//                                  exits: 0 when the simulator's answer arrived, 1 with the reason
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProviderSimulator } from '../src/simulator/providerSimulator';
import { createRunDir, ensureEditor, installVsix, launchBrowser, onShutdown, repoRoot, shutdownAndExit, startCodeServer } from './editor';
import { packageVsix } from './package';
import { runSmoke } from './smoke';

interface Options {
  chaos: number;
  real: boolean;
  screenshot: boolean;
  smoke: boolean;
  /** Only check the arguments (the README test uses it). */
  checkArgs: boolean;
  port?: number;
}

function parse(argv: string[]): Options {
  const o: Options = { chaos: 0.05, real: false, screenshot: false, smoke: false, checkArgs: false };
  let chaosGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--chaos') {
      o.chaos = Number(argv[++i]);
      chaosGiven = true;
    }
    else if (a === '--real') o.real = true;
    else if (a === '--screenshot') o.screenshot = true;
    else if (a === '--smoke') o.smoke = true;
    else if (a === '--check-args') o.checkArgs = true;
    else if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm start -- [--chaos 0..1] [--real] [--screenshot] [--smoke] [--port N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (!(o.chaos >= 0 && o.chaos <= 1)) throw new Error('--chaos takes a number from 0 to 1');
  if (o.smoke && o.real) throw new Error('--smoke runs against the simulator; leave out --real');
  // A smoke check must not fail on a fault the chaos knob threw in on purpose.
  if (o.smoke && !chaosGiven) o.chaos = 0;
  return o;
}

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst);
    else if (!fs.existsSync(dst)) fs.copyFileSync(src, dst);
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o.checkArgs) return;
  const t0 = Date.now();
  ensureEditor();
  // Installed like a user's extension (not the test driver's development mode), so the workbench
  // behaves normally: notifications show, nothing is automated. The VSIX is `npm run package`'s.
  const run = createRunDir(o.smoke ? 'smoke' : 'start', 3);
  const vsix = packageVsix({ out: path.join(run.root, 'maof.vsix') });
  process.stdout.write(`[start] packaged ${path.relative(repoRoot, vsix.file)} (${(vsix.bytes / 1024 / 1024).toFixed(2)} MB)\n`);

  // A sample workspace that survives restarts, so edits made while trying MAOF are kept (the smoke
  // check gets a throwaway copy).
  const workspace = o.smoke ? path.join(run.root, 'workspace') : path.join(repoRoot, '.maof-dev', 'workspace');
  copyDir(path.join(repoRoot, 'test', 'fixtures', 'workspace'), workspace);

  const settings: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  let sim: ProviderSimulator | undefined;
  if (o.real) {
    const have = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'].filter((k) => process.env[k]?.trim());
    if (have.length === 0) process.stdout.write('[start] --real without OPENAI_API_KEY or ANTHROPIC_API_KEY: set a key in the editor with "MAOF: Set API Key".\n');
    // The extension offers these to SecretStorage once, in development mode only.
    env.MAOF_DEV_IMPORT_ENV_KEYS = '1';
  } else {
    sim = new ProviderSimulator();
    const addr = await sim.start();
    if (o.chaos > 0) sim.setChaos({ rate: o.chaos, seed: Date.now() % 100_000 });
    onShutdown(() => sim!.stop(), () => undefined);
    settings['maof.agents'] = [
      { id: 'sim-gpt', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128000, maxOutputTokens: 1024, requiresKey: false, description: 'Loopback simulator (OpenAI wire format)' },
      { id: 'sim-claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 200000, maxOutputTokens: 1024, requiresKey: false, description: 'Loopback simulator (Anthropic wire format)' },
      { id: 'sim-sonnet', provider: 'anthropic', model: 'claude-sonnet-5-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 1000000, maxOutputTokens: 2048, requiresKey: false, description: 'Loopback simulator (Anthropic wire format)' },
    ];
    settings['maof.routes'] = { code: ['sim-gpt', 'sim-claude'], writing: ['sim-claude', 'sim-gpt'], analysis: ['sim-sonnet', 'sim-gpt'], utility: ['sim-claude', 'sim-gpt'] };
    settings['maof.budget'] = { monthlyUsd: 5, alertAt: [0.5, 0.8] };
    process.stdout.write(`[start] provider simulator on ${addr.openaiBaseUrl} (OpenAI) and ${addr.anthropicBaseUrl} (Anthropic), chaos ${o.chaos}\n`);
  }

  installVsix(vsix.file, run.extensionsDir);
  const server = await startCodeServer({ name: 'start', runDir: run, workspace, settings, env, smokeTestDriver: false, ...(o.port ? { port: o.port } : {}) });
  const url = `http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(workspace)}`;
  process.stdout.write(`\n[start] MAOF is running in VS Code (code-server). Open:\n\n  ${url}\n\n[start] log: ${server.logFile}\n`);
  if (o.smoke) {
    const report = await runSmoke({ url, runDir: run.root, simulator: sim });
    for (const line of report.lines) process.stdout.write(`[smoke] ${line}\n`);
    process.stdout.write(report.ok
      ? `[smoke] ok in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`
      : `[smoke] FAILED: ${report.reason ?? 'unknown'}\n[smoke] code-server log: ${server.logFile}\n`);
    await server.stop();
    await shutdownAndExit(report.ok ? 0 : 1);
  }
  if (o.screenshot) {
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The extension host starts a few seconds after the workbench; MAOF's status bar item says it is up.
    await page.locator('.statusbar-item', { hasText: 'MAOF' }).first().waitFor({ timeout: 60_000 }).catch(() => {
      process.stdout.write('[start] MAOF did not show in the status bar within 60 s; the screenshot shows why\n');
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const shot = path.join(run.root, 'start.png');
    await page.screenshot({ path: shot });
    process.stdout.write(`[start] screenshot: ${shot}\n`);
    await browser.close();
  }
  process.stdout.write('[start] Ctrl-C to stop\n');
  await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  await shutdownAndExit(1);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdownAndExit(1);
});
