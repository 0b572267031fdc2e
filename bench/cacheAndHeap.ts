// P6 (in process): cache-hit latency through Orchestrator.run and through the cache's own
// getOrCompute, then the heap after 1,000 and after 20,000 requests, to catch anything that grows
// per request (ledger entries, sessions, cache, listeners, pruner memos).
//   node --expose-gc --import tsx bench/cacheAndHeap.ts [--requests N]
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Orchestrator } from '../src/core/orchestrator';
import type { CachedResponse } from '../src/core/cache/responseCache';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { argNumber, benchConfig, BenchSecrets, emitResult, sampleContext, startSimulator, tempDir } from './harness';
import { round, roundSummary, summarize } from './stats';
import { userTurn } from '../src/core/types';

const CONCURRENCY = 16;

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
}

async function settle(): Promise<number> {
  await new Promise((r) => setTimeout(r, 50));
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const total = argNumber('--requests', 20_000);
  const sim = await startSimulator();
  try {
    const dir = tempDir('p6');
    const config = benchConfig(sim, { cache: { enabled: true, maxEntries: 500 } });
    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'state.json')) });
    const context = sampleContext();

    // ---- cache hits ----
    const hitReq = { messages: [userTurn('Write a function that reverses a linked list.')], task: 'code' };
    const warm = await orchestrator.run(hitReq);
    if (!warm.ok) throw new Error(`warm-up failed: ${warm.error.message}`);
    const runHits = async (req: Parameters<Orchestrator['run']>[0], n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await orchestrator.run(req);
        out.push(performance.now() - t0);
        if (!r.ok || !r.cached) throw new Error('expected a cache hit');
      }
      return out;
    };
    await runHits(hitReq, 500);
    const runHit = await runHits(hitReq, 5000);
    const ctxReq = { ...hitReq, context };
    await orchestrator.run(ctxReq);
    await runHits(ctxReq, 500);
    const runHitCtx = await runHits(ctxReq, 5000);

    // The cache alone: a stored key, looked up through getOrCompute (the orchestrator's path).
    const cache = orchestrator.cache;
    const parts = { agentId: 'sim-a', provider: 'openai', model: 'gpt-4.1-mini', temperature: 0, maxOutputTokens: 1024, messages: [{ role: 'system' as const, content: 'You are an expert software engineer.' }, { role: 'user' as const, content: hitReq.messages[0].content }] };
    const key = cache.keyFor(parts);
    if (!key) throw new Error('cache disabled');
    const value: CachedResponse = { text: 'answer', usage: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 }, agentId: 'sim-a', model: 'gpt-4.1-mini', costUsd: 0.0001, finishReason: 'stop' };
    await cache.getOrCompute(key, () => Promise.resolve(value));
    const lookup: number[] = [];
    const keyAndLookup: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      let t0 = performance.now();
      const got = await cache.getOrCompute(key, () => Promise.resolve(value));
      lookup.push(performance.now() - t0);
      if (!got.hit) throw new Error('expected a hit');
      t0 = performance.now();
      await cache.getOrCompute(cache.keyFor(parts)!, () => Promise.resolve(value));
      keyAndLookup.push(performance.now() - t0);
    }

    // ---- heap ----
    // As the chat does: a listener per request, removed after; distinct prompts; every fourth request
    // is a chat turn (a session of 200, with its history) with two context items.
    let done = 0;
    const heapAt: Record<number, number> = {};
    const checkpoints = [1_000, total];
    const runMany = async (upTo: number): Promise<void> => {
      const worker = async (): Promise<void> => {
        while (done < upTo) {
          const n = done++;
          const requestId = randomUUID();
          const unsubscribe = orchestrator.events.on((e) => void ('requestId' in e && e.requestId === requestId));
          try {
            const chat = n % 4 === 0;
            const r = await orchestrator.run({ messages: [userTurn(`Write function number ${n} that adds ${n} to its input.`)], task: 'code', requestId, ...(chat ? { context, sessionId: `chat-${(n / 4) % 200}` } : {}) });
            if (!r.ok) throw new Error(`request ${n} failed: ${r.error.message}`);
          } finally {
            unsubscribe();
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    const t0 = performance.now();
    for (const c of checkpoints) {
      await runMany(c);
      await orchestrator.flush();
      heapAt[c] = await settle();
    }
    const seconds = (performance.now() - t0) / 1000;
    const sizes = {
      ledgerEntries: orchestrator.ledger.recent(1_000_000).length,
      sessions: orchestrator.sessions.ids().length,
      cacheEntries: orchestrator.cache.stats().entries,
      listeners: orchestrator.events.listenerCount,
    };
    const growth = (heapAt[total] - heapAt[1_000]) / heapAt[1_000];
    emitResult({
      cacheHit: {
        run: roundSummary(summarize(runHit), 5),
        runWithContext: roundSummary(summarize(runHitCtx), 5),
        getOrCompute: roundSummary(summarize(lookup), 5),
        keyForAndGetOrCompute: roundSummary(summarize(keyAndLookup), 5),
      },
      heap: {
        requests: total,
        concurrency: CONCURRENCY,
        heapMBAt1000: round(heapAt[1_000] / 1024 / 1024, 2),
        heapMBAtEnd: round(heapAt[total] / 1024 / 1024, 2),
        growthPct: round(growth * 100, 2),
        requestsPerSecond: round((total - 0) / seconds, 0),
        sizes,
      },
    });
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
