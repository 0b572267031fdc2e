// Benchmarks of requests that wait instead of failing (issues 10 §1 and 14), against an in-process
// simulator (one process: the two sides below share its CPU alike).
//   storm: a batch against a simulator admitting N requests/s and answering 429 + retry-after-ms
//          above that — share answered and drain time for MAOF and for the bare OpenAI SDK with
//          its default retries (2), side by side; the floor is requests / N seconds.
//   budget: 64 requests at concurrency 64 under a budget that cannot afford them all — answered,
//          as a share of what a one-at-a-time run with the same budget answers; the simulator's
//          tally of real cost must never pass the limit.
//   npx tsx bench/waits.ts [--requests 1000] [--rate 200] [--concurrency 16]
import { OpenAI } from 'openai';
import { runBatch, type BatchItem } from '../src/cli/batch';
import { parseConfig } from '../src/core/config/schema';
import { costOf } from '../src/core/cost/costCalculator';
import { Orchestrator } from '../src/core/orchestrator';
import { MemoryStateStore } from '../src/core/ports';
import { ProviderSimulator, type SimulatorAddress } from '../src/simulator/providerSimulator';
import { argNumber, BENCH_KEY, BenchSecrets, emitResult } from './harness';
import { userTurn } from '../src/core/types';

const PRICING = { inputPerMTok: 3, outputPerMTok: 15 };

function config(addr: SimulatorAddress, budget: Record<string, unknown> = {}) {
  const { config: parsed, issues } = parseConfig({
    agents: [{ id: 'sim-a', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 128_000, maxOutputTokens: 1_000, timeoutMs: 30_000, requiresKey: true, pricing: PRICING }],
    routes: { code: ['sim-a'], writing: ['sim-a'], analysis: ['sim-a'] },
    retry: { maxTotalMs: 120_000 },
    budget,
    cache: { enabled: false },
  });
  if (issues.length > 0) throw new Error(`bench config invalid: ${JSON.stringify(issues)}`);
  return parsed;
}

async function storm(sim: ProviderSimulator, addr: SimulatorAddress, requests: number, rate: number, concurrency: number) {
  const items: BatchItem[] = Array.from({ length: requests }, (_, i) => ({ ok: true, prompt: `storm ${i} [[words:8]]`, task: 'code' }));
  const orchestrator = new Orchestrator({ config: config(addr), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  // Warm: the SDK loaded and a connection open, as the bare side finds them after this side ran.
  await orchestrator.run({ messages: [userTurn('warm up')], task: 'code' });
  sim.reset();
  sim.setAdmissionRate(rate);
  let started = Date.now();
  const results = await runBatch(orchestrator, items, { concurrency, onResult: () => undefined });
  const maof = { answered: results.filter((r) => r.ok).length / requests, drainMs: Date.now() - started, upstream: sim.tally().requests, unthrottledMs: 0 };
  // The same batch with no admission limit: what this machine needs anyway (a loaded 2-core box may need more than the floor).
  sim.reset();
  const fresh = new Orchestrator({ config: config(addr), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  await fresh.run({ messages: [userTurn('warm up')], task: 'code' });
  started = Date.now();
  await runBatch(fresh, items, { concurrency, onResult: () => undefined });
  maof.unthrottledMs = Date.now() - started;

  sim.reset();
  sim.setAdmissionRate(rate);
  // The SDK's defaults: 2 retries honouring retry-after-ms.
  const client = new OpenAI({ apiKey: BENCH_KEY, baseURL: addr.openaiBaseUrl, logLevel: 'off' });
  let next = 0;
  let ok = 0;
  started = Date.now();
  const worker = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      try {
        await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `storm ${i} [[words:8]]` }], max_tokens: 1_000 });
        ok++;
      } catch {
        // counted as not answered
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const bare = { answered: ok / requests, drainMs: Date.now() - started, upstream: sim.tally().requests };
  sim.setAdmissionRate(undefined);
  return { requests, rate, concurrency, floorMs: Math.round((requests / rate) * 1000), maof, bare };
}

async function budget(sim: ProviderSimulator, addr: SimulatorAddress) {
  const n = 64;
  const prompt = (i: number): string => `budget ${i} write a short helper [[words:30]]`;
  sim.reset();
  const probe = new Orchestrator({ config: config(addr), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  const first = await probe.run({ messages: [userTurn(prompt(0))], task: 'code' });
  if (!first.ok) throw new Error(`probe failed: ${first.error.message}`);
  // Affords about 40 real answers: a one-at-a-time run stops once a worst case no longer fits.
  const limit = Math.round(first.costUsd * 40 * 1e9) / 1e9;

  sim.reset();
  const serial = new Orchestrator({ config: config(addr, { monthlyUsd: limit }), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  let serialOk = 0;
  for (let i = 0; i < n; i++) if ((await serial.run({ messages: [userTurn(prompt(i))], task: 'code' })).ok) serialOk++;

  sim.reset();
  sim.setLatency(50);
  const batch = new Orchestrator({ config: config(addr, { monthlyUsd: limit }), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  const items: BatchItem[] = Array.from({ length: n }, (_, i) => ({ ok: true, prompt: prompt(i), task: 'code' }));
  const results = await runBatch(batch, items, { concurrency: n, onResult: () => undefined });
  const t = sim.tally();
  const providerUsd = costOf({ inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheWriteTokens: t.cacheWriteTokens }, PRICING);
  sim.setLatency(0);
  const batchOk = results.filter((r) => r.ok).length;
  return { requests: n, limitUsd: limit, serialAnswered: serialOk, batchAnswered: batchOk, utilisation: serialOk > 0 ? batchOk / serialOk : 0, providerUsd, overLimit: providerUsd > limit };
}

async function main(): Promise<void> {
  const sim = new ProviderSimulator();
  const addr = await sim.start();
  try {
    const s = await storm(sim, addr, argNumber('--requests', 1_000), argNumber('--rate', 200), argNumber('--concurrency', 16));
    const b = await budget(sim, addr);
    emitResult({ storm: s, budget: b });
  } finally {
    await sim.stop();
  }
}

void main();
