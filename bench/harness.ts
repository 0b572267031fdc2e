// What every benchmark process shares: the loopback provider simulator in a process of its own (a
// real provider is remote too, and on 2 cores the client and the server then get one core each),
// the orchestrator config that points at it, and the RESULT line a child hands back to bench/run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig, type MaofConfig } from '../src/core/config/schema';
import type { OpenAI } from 'openai';
import { Orchestrator, type RunRequest } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { getProvider, type Provider } from '../src/core/providers/provider';
import { transportFetch } from '../src/core/providers/httpTransport';
import type { SecretSource } from '../src/core/ports';

/** The repository; set by bench/run.ts for the benchmarks it runs as production bundles from elsewhere. */
export const repoRoot = process.env.MAOF_BENCH_REPO ?? resolve(__dirname, '..');
export const BENCH_KEY = 'sk-bench-0123456789abcdef';

export interface SimProcess {
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  port: number;
  /** The simulator's process id. */
  pid: number;
  setLatency(ms: number): Promise<void>;
  reset(): Promise<void>;
  tally(): Promise<{ requests: number; succeeded: number; faulted: number }>;
  stop(): Promise<void>;
}

/** Starts `src/simulator/main.ts` (or a built dist/simulator.js when given) and waits for its address line. */
export async function startSimulator(opts: { latencyMs?: number; script?: string } = {}): Promise<SimProcess> {
  const args = opts.script ? [opts.script] : ['--import', 'tsx', join(repoRoot, 'src', 'simulator', 'main.ts')];
  args.push('--port', '0');
  if (opts.latencyMs) args.push('--latency', String(opts.latencyMs));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((ok, fail) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      ok(l);
    });
    child.once('exit', (code) => fail(new Error(`simulator exited early (${String(code)})`)));
  });
  const addr = JSON.parse(line) as { port: number; openaiBaseUrl: string; anthropicBaseUrl: string };
  const control = async (path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${addr.port}/__sim/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    return res.json();
  };
  return {
    ...addr,
    pid: child.pid ?? 0,
    setLatency: async (ms) => {
      await control('latency', { ms });
    },
    reset: async () => {
      await control('reset', {});
    },
    tally: async () => (await control('tally')) as { requests: number; succeeded: number; faulted: number },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

export class BenchSecrets implements SecretSource {
  get(name: string): Promise<string | undefined> {
    return Promise.resolve(name.startsWith('provider:') ? BENCH_KEY : undefined);
  }
}

/**
 * Agents on the simulator with every policy switched on: a rate limit high enough never to queue
 * (so the limiter's bookkeeping runs but never waits), a budget that is checked but never reached.
 */
export function benchConfig(sim: Pick<SimProcess, 'openaiBaseUrl' | 'anthropicBaseUrl'>, overrides: Record<string, unknown> = {}): MaofConfig {
  const { config, issues } = parseConfig(benchRawConfig(sim, overrides));
  if (issues.length > 0) throw new Error(`bench config invalid: ${JSON.stringify(issues)}`);
  return config;
}

/** The same settings as written in a config file (for the CLI). */
export function benchRawConfig(sim: Pick<SimProcess, 'openaiBaseUrl' | 'anthropicBaseUrl'>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const agent = (id: string, provider: 'openai' | 'anthropic', model: string): Record<string, unknown> => ({
    id,
    provider,
    model,
    baseUrl: provider === 'openai' ? sim.openaiBaseUrl : sim.anthropicBaseUrl,
    contextWindow: 128_000,
    maxOutputTokens: 1024,
    timeoutMs: 30_000,
    requiresKey: true,
    pricing: { inputPerMTok: 2, outputPerMTok: 8 },
    rateLimit: { rpm: 1_000_000, tpm: 1_000_000_000 },
  });
  return {
    agents: [
      agent('sim-a', 'openai', 'gpt-4.1-mini'),
      agent('sim-b', 'openai', 'gpt-4.1'),
      agent('sim-c', 'openai', 'gpt-4.1-nano'),
      agent('sim-d', 'openai', 'gpt-4o-mini'),
      agent('sim-claude', 'anthropic', 'claude-haiku-4-5'),
    ],
    routes: { code: ['sim-a', 'sim-b'], writing: ['sim-a', 'sim-b'], analysis: ['sim-a', 'sim-b'] },
    budget: { monthlyUsd: 1_000_000, dailyUsd: 100_000, perRequestUsd: 100 },
    cache: { enabled: false },
    ...overrides,
  };
}

/** A fresh folder under MAOF_BENCH_TMP (set by bench/run.ts, which removes it at the end) or the system temp. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.MAOF_BENCH_TMP ?? tmpdir(), `maof-bench-${prefix}-`));
}

/**
 * The OpenAI SDK class exactly as the core loads it (`import('openai')` in openaiProvider.ts), so
 * that the bare-SDK side of a comparison runs the very same module. Under tsx a static import gets
 * the package's CommonJS build and the core's dynamic import its ES-module build: two copies whose
 * per-request costs differ by ~0.1–0.2 ms, which once showed up as "pipeline overhead".
 */
async function coreOpenAI(): Promise<typeof OpenAI> {
  return (await import('openai')).OpenAI;
}

/** A child benchmark prints exactly one such line; bench/run.ts parses it. */
export function emitResult(value: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
}

/** Yields to the event loop so timers, sockets and GC get their turn between measured calls. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Two context items the size of a typical open file and selection (redaction and pruning run on them). */
export function sampleContext(): Array<{ id: string; kind: 'selection' | 'activeFile'; label: string; text: string; languageId: string; version: number; path: string; cursorOffset?: number }> {
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) lines.push(`export function helper${i}(value: number): number {\n  return value * ${i} + ${i % 7}; // keeps the ${i}th case simple\n}\n`);
  const file = lines.join('\n');
  return [
    { id: 'sel', kind: 'selection', label: 'src/helpers.ts (selection)', text: lines.slice(10, 14).join('\n'), languageId: 'typescript', version: 1, path: 'src/helpers.ts' },
    { id: 'file:src/helpers.ts', kind: 'activeFile', label: 'src/helpers.ts', text: file, languageId: 'typescript', version: 1, path: 'src/helpers.ts', cursorOffset: 2000 },
  ];
}

/**
 * Runs `first` and `second` one after the other `n` times, alternating which goes first so that
 * drift in machine load hits both, and returns what each measured, in call order.
 */
export async function interleaved(n: number, first: () => Promise<number>, second: () => Promise<number>): Promise<[number[], number[]]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      a.push(await first());
      b.push(await second());
    } else {
      b.push(await second());
      a.push(await first());
    }
  }
  return [a, b];
}

/** A positive number given as `--name N` on the command line, else `fallback`. */
export function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export interface CapturedRequest {
  /** The model of the agent the request went to. */
  model: string;
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  maxOutputTokens: number;
  temperature?: number;
}

/**
 * Runs `req` once through a probe orchestrator and returns the request it sent upstream, so that
 * the bare side of a comparison asks the simulator for exactly the same work.
 */
export async function captureRequest(config: MaofConfig, dir: string, req: RunRequest): Promise<CapturedRequest> {
  let sent: CapturedRequest | undefined;
  const real = getProvider('openai');
  const capturing: Provider = {
    kind: 'openai',
    complete: (r) => {
      sent ??= { model: r.agent.model, messages: r.messages.map((m) => ({ role: m.role, content: m.content })), maxOutputTokens: r.maxOutputTokens, temperature: r.temperature };
      return real.complete(r);
    },
  };
  const probe = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'probe.json')), providerFor: () => capturing });
  const first = await probe.run(req);
  if (!first.ok || !sent) throw new Error(`pipeline probe failed: ${first.ok ? 'no request captured' : first.error.message}`);
  return sent;
}

/**
 * The bare side's client: the core's SDK module, no retries, keep-alive, logging off. With
 * `transport: 'maof'` it is given the fetch MAOF's adapters use (providers/httpTransport.ts), so a
 * comparison measures the pipeline alone; with 'global' (default) it uses Node's fetch, as a
 * script written against the SDK would.
 */
export async function bareClient(sim: Pick<SimProcess, 'openaiBaseUrl'>, transport: 'global' | 'maof' = 'global'): Promise<OpenAI> {
  const OpenAIClass = await coreOpenAI();
  return new OpenAIClass({ apiKey: BENCH_KEY, baseURL: sim.openaiBaseUrl, maxRetries: 0, timeout: 30_000, logLevel: 'off', ...(transport === 'maof' ? { fetch: transportFetch } : {}) });
}
