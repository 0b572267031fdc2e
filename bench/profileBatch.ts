// Profiling aid, not part of `npm run bench`: the client CPU per request of what `maof batch` does
// (concurrency 32, distinct prompts, cache on), in one process, for one MODE:
//   bare  the bare SDK call with the same messages
//   pipe  Orchestrator.run
//   out   Orchestrator.run and the CLI's JSON line (stringify + key scrub), discarded
//   adapter  the OpenAI adapter's complete() alone (runGuarded, client cache, the SDK call)
//   null  Orchestrator.run with a provider that answers at once (no SDK, no HTTP): the pipeline
//         alone, free of the network's noise; null-guarded adds the adapter's runGuarded
// Built by `node esbuild.js --bench`; run each mode in a process of its own, e.g.
//   node dist/bench/profileBatch.js pipe [N] [--cpu-prof]
// The simulator runs in its own process, as in the P6 benchmark.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { scrub } from '../src/core/logging/redactingLogger';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { parseConfig } from '../src/core/config/schema';
import { systemClock } from '../src/core/clock';
import { getProvider, type Provider } from '../src/core/providers/provider';
import { runGuarded } from '../src/core/providers/adapterSupport';
import { BENCH_KEY, bareClient, benchRawConfig, BenchSecrets, captureRequest, startSimulator, tempDir } from './harness';
import { userTurn } from '../src/core/types';

const CONCURRENCY = 32;
const NEVER = new AbortController().signal;

async function pool(n: number, offset: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await fn(offset + next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'pipe';
  const n = Number(process.argv[3] ?? (process.argv[2]?.startsWith('null') ? 40_000 : 4000));
  const sim = await startSimulator({ script: join(__dirname, '..', 'simulator.js') });
  // MAOF_PIN=1 (Linux): this process and its threads on CPU 0, the simulator on CPU 1, so the
  // client's CPU time is not muddled by the two sharing a core.
  if (process.env.MAOF_PIN === '1') {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(sim.pid)]);
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);
  }
  try {
    const dir = tempDir('profile-batch');
    // Variants that switch policies off show what each costs: pipe-nocache, pipe-bare (no cache,
    // budget, rate limit or prompt redaction).
    const raw = benchRawConfig(sim, { cache: { enabled: !mode.includes('nocache') && mode !== 'pipe-bare', ...(process.env.MAOF_PROFILE_CACHE ? (JSON.parse(process.env.MAOF_PROFILE_CACHE) as object) : {}) } });
    if (mode === 'pipe-bare') {
      raw.budget = {};
      raw.context = { redactSecrets: false };
      for (const a of raw.agents as Array<Record<string, unknown>>) delete a.rateLimit;
    }
    const config = parseConfig(raw).config;
    const prompt = (i: number): string => `Write function number ${i} that adds ${i} to its input.`;
    const sent = await captureRequest(config, dir, { messages: [userTurn(prompt(0))], task: 'code' });
    const system = sent.messages[0].content;
    let run: (count: number, offset: number) => Promise<void>;
    if (mode.startsWith('bare')) {
      // bare-signal: with an AbortController of its own per call, as the adapter has.
      // bare-http: the bare SDK given MAOF's transport (providers/httpTransport.ts) as its fetch.
      const client = await bareClient(sim, mode === 'bare-http' ? 'maof' : 'global');
      const withSignal = mode === 'bare-signal';
      run = (count, offset) =>
        pool(count, offset, async (i) => {
          const options = withSignal ? { signal: new AbortController().signal } : undefined;
          const res = await client.chat.completions.create({ model: sent.model, messages: [{ role: 'system', content: system }, { role: 'user', content: prompt(i) }], max_tokens: sent.maxOutputTokens, ...(sent.temperature !== undefined ? { temperature: sent.temperature } : {}) }, options);
          JSON.stringify({ ok: true, text: res.choices[0]?.message.content ?? '' });
        });
    } else if (mode === 'adapter') {
      const provider = getProvider('openai');
      const agent = config.agents.find((a) => a.id === 'sim-a')!;
      run = (count, offset) =>
        pool(count, offset, async (i) => {
          const res = await provider.complete({ agent, apiKey: BENCH_KEY, messages: [{ role: 'system', content: system }, { role: 'user', content: prompt(i) }], maxOutputTokens: sent.maxOutputTokens, temperature: sent.temperature, stream: false, signal: NEVER, json: false });
          JSON.stringify({ ok: true, text: res.text });
        });
    } else {
      const answer = { text: 'Simulated answer', usage: { inputTokens: 40, outputTokens: 12, cacheReadTokens: 0, cacheWriteTokens: 0 }, finishReason: 'stop' as const, model: 'gpt-4.1-mini' };
      const nullProvider: Provider = {
        kind: 'openai',
        complete: mode === 'null-guarded' ? (req) => runGuarded('openai', req, systemClock, () => Promise.resolve(undefined), () => Promise.resolve(answer)) : () => Promise.resolve(answer),
      };
      const providerFor = mode.startsWith('null') ? (): Provider => nullProvider : undefined;
      const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'state.json')), providerFor });
      const out = mode === 'out';
      run = (count, offset) =>
        pool(count, offset, async (i) => {
          const r = await orchestrator.run({ messages: [userTurn(prompt(i))], task: 'code' });
          if (!r.ok) throw new Error(r.error.message);
          if (out) scrub(JSON.stringify({ ok: true, task: r.task, agent: r.agentId, text: r.text, attempts: r.attempts, usage: r.usage, costUsd: r.costUsd, cached: r.cached }), [BENCH_KEY]);
        });
    }
    await run(500, 1_000_000);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(n, 0);
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    console.log(`${mode}: client CPU ${(((c.user + c.system) / n) * 1).toFixed(0)} µs/request (user ${(c.user / n).toFixed(0)}, sys ${(c.system / n).toFixed(0)}), wall ${((wall / n) * 1000).toFixed(0)} µs/request`);
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
