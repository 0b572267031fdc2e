// P1: what the whole pipeline adds to one request, against the bare SDK call to the same simulator.
// The bare call is given the fetch MAOF's adapters use (providers/httpTransport.ts), so the
// difference is the pipeline alone; a third arm, the bare SDK on Node's global fetch, shows what
// that transport saves. The arms are interleaved (rotating which goes first) so that drift in
// machine load hits all of them.
//   node --import tsx bench/pipelineOverhead.ts [--iterations N]
import { join } from 'node:path';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { SqliteStore } from '../src/core/persistence/sqliteStore';
import { argNumber, bareClient, interleaved, benchConfig, BenchSecrets, captureRequest, emitResult, sampleContext, startSimulator, tempDir } from './harness';
import { roundSummary, summarize, median, round } from './stats';
import { userTurn } from '../src/core/types';

const PROMPT = 'Refactor helper12 so that it handles negative values, and keep the signature.';

async function main(): Promise<void> {
  const iterations = argNumber('--iterations', 3000);
  const warmup = Math.min(500, Math.ceil(iterations / 5));
  const sim = await startSimulator();
  try {
    const config = benchConfig(sim);
    const context = sampleContext();
    const dir = tempDir('p1');

    // The exact request the pipeline sends, so the bare call asks the simulator for the same work.
    const request = await captureRequest(config, dir, { messages: [userTurn(PROMPT)], task: 'code', context });

    // The store production uses: the shared SQLite ledger (issue 19); MAOF_BENCH_STORE=file for the JSON file it replaced.
    const store = process.env.MAOF_BENCH_STORE === 'file' ? new FileStateStore(join(dir, 'state.json')) : new SqliteStore(join(dir, 'maof.db'));
    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store });
    let events = 0;
    orchestrator.events.on(() => {
      events++;
    });
    const client = await bareClient(sim, 'maof');
    const globalClient = await bareClient(sim, 'global');
    const { messages } = request;

    const pipeline = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await orchestrator.run({ messages: [userTurn(PROMPT)], task: 'code', context });
      const t = performance.now() - t0;
      if (!r.ok) throw new Error(`pipeline failed: ${r.error.code} ${r.error.message}`);
      return t;
    };
    const bareWith = (c: typeof client) => async (): Promise<number> => {
      const t0 = performance.now();
      const r = await c.chat.completions.create({ model: request.model, messages, max_tokens: request.maxOutputTokens, ...(request.temperature !== undefined ? { temperature: request.temperature } : {}) });
      const t = performance.now() - t0;
      if (!r.choices[0]?.message.content) throw new Error('bare call returned no text');
      return t;
    };
    const bare = bareWith(client);
    const bareGlobal = bareWith(globalClient);

    for (let i = 0; i < warmup; i++) {
      await pipeline();
      await bare();
      await bareGlobal();
    }
    const cpuStart = process.cpuUsage();
    const [a, b] = await interleaved(iterations, pipeline, bare);
    const cpu = process.cpuUsage(cpuStart);
    // The transport's share, apart so that the CPU figure above stays one pipeline + one bare call.
    const [g, b2] = await interleaved(Math.ceil(iterations / 3), bareGlobal, bare);
    await orchestrator.flush();
    await store.flush();

    const pipelineStats = summarize(a);
    const bareStats = summarize(b);
    const pairDiff = summarize(a.map((t, i) => t - b[i]));
    emitResult({
      iterations,
      warmup,
      contextItems: context.length,
      messagesChars: messages.reduce((n, m) => n + m.content.length, 0),
      eventsPerRequest: round(events / (iterations + warmup), 2),
      pipeline: roundSummary(pipelineStats),
      bare: roundSummary(bareStats),
      bareGlobalFetch: roundSummary(summarize(g)),
      transportSavesP50: round(median(g) - median(b2)),
      addedP50: round(median(a) - median(b)),
      addedP99: round(pipelineStats.p99 - bareStats.p99),
      pairedDiff: roundSummary(pairDiff),
      clientCpuMsPerPair: round((cpu.user + cpu.system) / 1000 / iterations),
    });
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
