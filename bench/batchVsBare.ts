// P6 (processes): `maof batch` of 4,000 distinct requests at concurrency 32 against the zero-delay
// simulator, as the built CLI in a child process, against bench/bareBatch.ts doing the same requests
// with the bare SDK in its own process. Both include process start-up; runs alternate. The bare
// script runs twice per round: on Node's global fetch (the target's comparison: a script as one
// would write it) and given MAOF's transport (so the pipeline's own share shows apart).
//   node --import tsx bench/batchVsBare.ts DIST_DIR [--requests N] [--runs N]
// With MAOF_BENCH_PROFILE=DIR each measured child writes a V8 CPU profile there (--cpu-prof).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { parseConfig } from '../src/core/config/schema';
import { argNumber, BENCH_KEY, benchRawConfig, captureRequest, emitResult, repoRoot, startSimulator, tempDir } from './harness';
import { median, round } from './stats';
import { userTurn } from '../src/core/types';

const CONCURRENCY = 32;

interface Run {
  ms: number;
  lines: number;
  ok: number;
  code: number | null;
}

/** Spawns `node args…`, counts the JSON lines it prints, and times it from spawn to exit. */
function timedRun(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const profileDir = process.env.MAOF_BENCH_PROFILE;
    const flags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const child = spawn(process.execPath, [...flags, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let ok = 0;
    let rest = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) {
        if (!p) continue;
        lines++;
        if (p.startsWith('{"ok":true')) ok++;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      if (err.length < 4000) err += c;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${String(code)}: ${err}`));
      else resolve({ ms, lines, ok, code });
    });
  });
}

async function main(): Promise<void> {
  const distDir = process.argv[2];
  if (!distDir) throw new Error('usage: batchVsBare.ts DIST_DIR [--requests N] [--runs N]');
  const requests = argNumber('--requests', 4000);
  const runs = argNumber('--runs', 3);
  const sim = await startSimulator();
  try {
    const dir = tempDir('p6-batch');
    const raw = benchRawConfig(sim, { cache: { enabled: true } });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const promptsFile = join(dir, 'prompts.jsonl');
    writeFileSync(promptsFile, Array.from({ length: requests }, (_, i) => JSON.stringify({ prompt: `Write function number ${i} that adds ${i} to its input.`, task: 'code' })).join('\n') + '\n');

    // What the CLI sends for these lines, so the bare script asks for exactly the same work.
    const sent = await captureRequest(parseConfig(raw).config, dir, { messages: [userTurn('Write function number 0 that adds 0 to its input.')], task: 'code' });
    const system = sent.messages.find((m) => m.role === 'system')?.content ?? '';
    const specFile = join(dir, 'spec.json');
    const spec = { baseURL: sim.openaiBaseUrl, apiKey: BENCH_KEY, model: sent.model, system, maxTokens: sent.maxOutputTokens, temperature: sent.temperature, concurrency: CONCURRENCY, promptsFile };
    writeFileSync(specFile, JSON.stringify(spec));
    const transportSpecFile = join(dir, 'spec-transport.json');
    writeFileSync(transportSpecFile, JSON.stringify({ ...spec, transport: 'maof' }));

    const bareJs = join(dir, 'bareBatch.js');
    await build({ entryPoints: [join(repoRoot, 'bench', 'bareBatch.ts')], outfile: bareJs, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, logLevel: 'warning', absWorkingDir: repoRoot });

    const cli = join(distDir, 'cli.js');
    const env = (stateDir: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, OPENAI_API_KEY: BENCH_KEY, MAOF_STATE_DIR: stateDir, MAOF_HOME: stateDir, MAOF_LOG_LEVEL: 'error' });
    const cliArgs = [cli, 'batch', promptsFile, '--concurrency', String(CONCURRENCY), '--json', '--config', configFile];
    // One warm-up of each (disk cache, simulator JIT), then alternating measured runs.
    await timedRun(cliArgs, env(join(dir, 'state-warm')));
    await timedRun([bareJs, specFile], env(dir));
    await timedRun([bareJs, transportSpecFile], env(dir));
    const cliRuns: Run[] = [];
    const bareRuns: Run[] = [];
    const bareTransportRuns: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const stateDir = join(dir, `state-${i}`);
      mkdirSync(stateDir, { recursive: true });
      // Rotate the order so that drift in machine load does not favour one side.
      const round: Array<() => Promise<void>> = [
        async () => void cliRuns.push(await timedRun(cliArgs, env(stateDir))),
        async () => void bareRuns.push(await timedRun([bareJs, specFile], env(dir))),
        async () => void bareTransportRuns.push(await timedRun([bareJs, transportSpecFile], env(dir))),
      ];
      for (let k = 0; k < round.length; k++) await round[(i + k) % round.length]();
    }
    for (const r of [...cliRuns, ...bareRuns, ...bareTransportRuns]) {
      if (r.lines !== requests || r.ok !== requests) throw new Error(`a run answered ${r.ok}/${r.lines} of ${requests}`);
    }
    const cliMs = median(cliRuns.map((r) => r.ms));
    const bareMs = median(bareRuns.map((r) => r.ms));
    const bareTransportMs = median(bareTransportRuns.map((r) => r.ms));
    emitResult({
      requests,
      concurrency: CONCURRENCY,
      runs,
      cliMs: round(cliMs, 1),
      bareMs: round(bareMs, 1),
      ratio: round(cliMs / bareMs, 3),
      bareTransportMs: round(bareTransportMs, 1),
      ratioSameTransport: round(cliMs / bareTransportMs, 3),
      cliReqPerSec: round((requests / cliMs) * 1000, 0),
      bareReqPerSec: round((requests / bareMs) * 1000, 0),
      allCliMs: cliRuns.map((r) => round(r.ms, 0)),
      allBareMs: bareRuns.map((r) => round(r.ms, 0)),
      allBareTransportMs: bareTransportRuns.map((r) => round(r.ms, 0)),
    });
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
