// P9 (issue 18): a primary that goes silent. 1,000 streamed requests at concurrency 16 to a route
// whose primary (sim-a) leaves 5 % of its requests silent for 30 s (the simulator's `delay` fault
// before any header, the same seeded 50 requests in every run) with a healthy fallback (sim-claude).
// Time to first token and total time, p50/p95/p99, and the upstream requests the simulator saw,
// for the bare openai SDK (straight at the primary), MAOF with its deadlines (default settings) and
// MAOF with hedging on the route (maof.hedging defaults). Real time, not scaled: the silences run
// concurrently, so a run takes about 50 × 30 s / 16 for the bare SDK. Each MAOF run starts with no
// latency learned (a fresh state folder): the first requests meet the cold-start deadline.
//   node --import tsx bench/stalls.ts [--requests N] [--concurrency N] [--silentMs MS] [--latency MS]
import { join } from 'node:path';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { userTurn } from '../src/core/types';
import { mulberry32 } from '../src/simulator/faultPlan';
import { argNumber, bareClient, benchConfig, BenchSecrets, emitResult, startSimulator, tempDir, type SimProcess } from './harness';
import { percentile, round } from './stats';

const PRIMARY_MODEL = 'gpt-4.1-mini';

interface Timing {
  ttftMs: number;
  totalMs: number;
  ok: boolean;
}

interface Tail {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function tail(samples: number[]): Tail {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => round(percentile(sorted, q), 1);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1] ?? Number.NaN, 1) };
}

interface RunReport {
  ttft: Tail;
  total: Tail;
  answered: number;
  /** Requests the simulator received beyond one per request. */
  extraUpstream: number;
  upstream: number;
  wallMs: number;
  /** MAOF only: what its events said. */
  events?: MaofCounts;
}

interface MaofCounts {
  hedges: number;
  /** Failovers after a missed deadline (fallback events with reason STALLED). */
  stalledFailovers: number;
  /** Times the primary's breaker opened. */
  primaryBreakerOpens: number;
}

/** The same seeded set of silent requests for every run: exactly `share` of `n`. */
function silentSet(n: number, share: number): Set<number> {
  const rng = mulberry32(18);
  const all = Array.from({ length: n }, (_v, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return new Set(all.slice(0, Math.round(n * share)));
}

/** One plan step per request to the primary, in arrival order: silent (a 30 s delay) or healthy (no delay). */
async function planSilences(sim: SimProcess, n: number, silent: Set<number>, silentMs: number): Promise<void> {
  const steps = Array.from({ length: n }, (_v, i) => ({ match: { model: PRIMARY_MODEL }, fault: { kind: 'delay', ms: silent.has(i) ? silentMs : 0 } }));
  const res = await fetch(`http://127.0.0.1:${sim.port}/__sim/plan`, { method: 'POST', body: JSON.stringify(steps) });
  if (!res.ok) throw new Error(`plan refused: ${await res.text()}`);
}

/** Runs `n` jobs at `concurrency`; returns their timings and the wall time. */
async function pool(n: number, concurrency: number, job: (i: number) => Promise<Timing>): Promise<{ timings: Timing[]; wallMs: number }> {
  const timings: Timing[] = new Array<Timing>(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) timings[i] = await job(i);
    }),
  );
  return { timings, wallMs: performance.now() - t0 };
}

async function report(sim: SimProcess, n: number, run: { timings: Timing[]; wallMs: number }, events?: MaofCounts): Promise<RunReport> {
  const tally = await sim.tally();
  const ok = run.timings.filter((t) => t.ok);
  return {
    ttft: tail(ok.map((t) => t.ttftMs)),
    total: tail(ok.map((t) => t.totalMs)),
    answered: ok.length,
    upstream: tally.requests,
    extraUpstream: tally.requests - n,
    wallMs: round(run.wallMs, 0),
    ...(events ? { events } : {}),
  };
}

async function bare(sim: SimProcess, n: number, concurrency: number): Promise<{ timings: Timing[]; wallMs: number }> {
  const client = await bareClient(sim);
  return pool(n, concurrency, async (i) => {
    const t0 = performance.now();
    let first = -1;
    try {
      const stream = await client.chat.completions.create({ model: PRIMARY_MODEL, messages: [{ role: 'user', content: `Write helper ${i}.` }], max_tokens: 256, stream: true }, { timeout: 120_000 });
      for await (const chunk of stream) if (first < 0 && chunk.choices[0]?.delta?.content) first = performance.now() - t0;
      return { ttftMs: first, totalMs: performance.now() - t0, ok: first >= 0 };
    } catch {
      return { ttftMs: -1, totalMs: performance.now() - t0, ok: false };
    }
  });
}

async function maof(sim: SimProcess, n: number, concurrency: number, hedging: boolean): Promise<{ run: { timings: Timing[]; wallMs: number }; counts: MaofCounts }> {
  const config = benchConfig(sim, { routes: { code: ['sim-a', 'sim-claude'] }, ...(hedging ? { hedging: { routes: ['code'] } } : {}) });
  const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(tempDir('p9'), 'state.json')) });
  const counts: MaofCounts = { hedges: 0, stalledFailovers: 0, primaryBreakerOpens: 0 };
  orchestrator.events.onType('hedge.sent', () => counts.hedges++);
  orchestrator.events.onType('fallback', (e) => {
    if (e.reason === 'STALLED') counts.stalledFailovers++;
  });
  orchestrator.events.onType('breaker.changed', (e) => {
    if (e.agentId === 'sim-a' && e.to === 'open') counts.primaryBreakerOpens++;
  });
  const run = await pool(n, concurrency, async (i) => {
    const t0 = performance.now();
    let first = -1;
    const r = await orchestrator.run({
      messages: [userTurn(`Write helper ${i}.`)],
      task: 'code',
      stream: true,
      structured: false,
      maxOutputTokens: 256,
      onDelta: () => {
        if (first < 0) first = performance.now() - t0;
      },
    });
    return { ttftMs: first, totalMs: performance.now() - t0, ok: r.ok && first >= 0 };
  });
  return { run, counts };
}

async function main(): Promise<void> {
  const n = argNumber('--requests', 1000);
  const concurrency = argNumber('--concurrency', 16);
  const silentMs = argNumber('--silentMs', 30_000);
  const latency = argNumber('--latency', 100);
  const silent = silentSet(n, 0.05);
  const sim = await startSimulator({ latencyMs: latency });
  try {
    const result: Record<string, unknown> = { requests: n, concurrency, silent: silent.size, silentMs, latencyMs: latency };
    const fresh = async (): Promise<void> => {
      await sim.reset();
      await sim.setLatency(latency);
      await planSilences(sim, n, silent, silentMs);
    };
    await fresh();
    const d = await maof(sim, n, concurrency, false);
    result.deadlines = await report(sim, n, d.run, d.counts);
    process.stderr.write(`[P9] deadlines ${JSON.stringify(result.deadlines)}\n`);
    await fresh();
    const h = await maof(sim, n, concurrency, true);
    result.hedging = await report(sim, n, h.run, h.counts);
    process.stderr.write(`[P9] hedging ${JSON.stringify(result.hedging)}\n`);
    await fresh();
    result.bare = await report(sim, n, await bare(sim, n, concurrency));
    process.stderr.write(`[P9] bare ${JSON.stringify(result.bare)}\n`);
    emitResult(result);
  } finally {
    await sim.stop();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
