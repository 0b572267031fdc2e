// Runs the `maof` CLI the two ways the suite needs: the built binary as a child process (as users
// run it), and `main()` in-process (fast). Either way every byte it prints goes to the leak scanner.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { main } from '../../../src/cli/main';
import type { MaofConfig } from '../../../src/core/config/schema';
import { KEYS, ROOT, leaks, record, tempDir } from './runContext';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

let binary: string | undefined;

/**
 * dist/cli.js when it is at least as new as the sources it bundles; otherwise the same bundle built
 * into a temporary directory with the options of esbuild.js, so the suite never tests stale code.
 */
export function cliBinary(): string {
  if (binary) return binary;
  const dist = path.join(ROOT, 'dist', 'cli.js');
  const sources = Math.max(newestMtime(path.join(ROOT, 'src', 'core')), newestMtime(path.join(ROOT, 'src', 'cli')));
  if (existsSync(dist) && statSync(dist).mtimeMs >= sources) {
    binary = dist;
    record('env', { cliBinary: 'dist/cli.js' });
  } else {
    const out = path.join(tempDir('cli-build', { scan: false }), 'cli.js');
    buildSync({
      entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      banner: { js: '#!/usr/bin/env node' },
      logLevel: 'silent',
      sourcemap: false,
    });
    binary = out;
    record('env', { cliBinary: 'fresh bundle of src/cli/main.ts (dist/cli.js was stale or missing)' });
  }
  return binary;
}

/** A clean environment: no keys, proxies or settings of the machine running the suite leak in. */
export function cliEnv(dir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    MAOF_HOME: dir,
    MAOF_STATE_DIR: dir,
    OPENAI_API_KEY: KEYS.openai,
    ANTHROPIC_API_KEY: KEYS.anthropic,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface SpawnOptions {
  /** Called with each stdout chunk (e.g. to send SIGINT once the answer starts). */
  onStdout?: (chunk: string, child: ChildProcess) => void;
  /** Called once the child runs (e.g. to watch the simulator and send SIGINT when the answer streams). */
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

export function runCli(label: string, args: string[], env: NodeJS.ProcessEnv, opts: SpawnOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBinary(), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(d, child);
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    opts.onSpawn?.(child);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`maof ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 60_000} ms`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      leaks.scan(`cli-stdout:${label}`, stdout);
      leaks.scan(`cli-stderr:${label}`, stderr);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `main(argv, io)` in this process, with output captured (and scanned). */
export async function runCliInProcess(label: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
  leaks.scan(`cli-stdout:${label}`, stdout);
  leaks.scan(`cli-stderr:${label}`, stderr);
  return { code, signal: null, stdout, stderr };
}

/** Writes a CLI config file from a parsed config's agents and the given sections. */
export function writeCliConfig(file: string, config: MaofConfig, extra: Record<string, unknown> = {}): string {
  const agents = config.agents
    .filter((a) => a.baseUrl?.startsWith('http://127.0.0.1'))
    .map((a) => ({ id: a.id, provider: a.provider, model: a.model, baseUrl: a.baseUrl, contextWindow: a.contextWindow, maxOutputTokens: a.maxOutputTokens, timeoutMs: a.timeoutMs, requiresKey: true }));
  const body = { agents, routes: config.routes, retry: config.retry, breaker: config.breaker, cache: { enabled: false }, ...extra };
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

/** Parses `--json` output: one object per line. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
