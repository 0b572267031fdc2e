// Runs the built `maof` CLI (dist/cli.js, built by `npm run test:conformance` and by `npm test`'s
// build stage) as a user runs it, with a clean environment and output captured.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './foreignServers';

export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const KEYS = { openai: 'sk-conformance-openai-4f1e9a7c2b', anthropic: 'sk-ant-conformance-9c3d7e1a5f' } as const;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `keys: false` runs with no key in the environment at all (keyless agents). */
export function runCli(args: string[], stateDir: string, opts: { keys?: boolean } = {}): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing — run `node esbuild.js` first');
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: stateDir, MAOF_STATE_DIR: stateDir };
    if (opts.keys !== false) Object.assign(env, { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic });
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const key of Object.values(KEYS)) if (stdout.includes(key) || stderr.includes(key)) reject(new Error(`the CLI printed a key: ${key}`));
      resolve({ code, stdout, stderr });
    });
  });
}

export interface JsonAnswer {
  ok: boolean;
  agent?: string;
  text?: string;
  attempts: Array<{ agent: string; outcome: string; status?: number; waitMs?: number; elapsedMs?: number }>;
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
  usageEstimated?: boolean;
  error?: { code: string; message: string };
}

export function jsonLines(stdout: string): JsonAnswer[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonAnswer);
}

export function writeJson(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}
