// P5: fan-out to 4 agents whose simulated latency is 200 ms each, against the slowest of the same
// 4 calls made one at a time: the pipeline must run them side by side, not one after another.
//   node --import tsx bench/fanOut.ts [--rounds N]
import { join } from 'node:path';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { argNumber, benchConfig, BenchSecrets, emitResult, startSimulator, tempDir } from './harness';
import { median, round } from './stats';
import { userTurn } from '../src/core/types';

const LATENCY_MS = 200;
const AGENTS = ['sim-a', 'sim-b', 'sim-c', 'sim-d'];
const PROMPT = 'Write a function that parses ISO dates.';

async function main(): Promise<void> {
  const rounds = argNumber('--rounds', 10);
  const sim = await startSimulator({ latencyMs: LATENCY_MS });
  try {
    const orchestrator = new Orchestrator({ config: benchConfig(sim), secrets: new BenchSecrets(), store: new FileStateStore(join(tempDir('p5'), 'state.json')) });
    const timed = async (fn: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    // Warm-up: connections to the simulator and JIT.
    await orchestrator.fanOut({ messages: [userTurn(PROMPT)], task: 'code' }, AGENTS);

    const fan: number[] = [];
    const slowest: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let slow = 0;
      for (const agentId of AGENTS) {
        slow = Math.max(
          slow,
          await timed(async () => {
            const res = await orchestrator.run({ messages: [userTurn(PROMPT)], task: 'code', agentId });
            if (!res.ok) throw new Error(`single call failed: ${res.error.message}`);
          }),
        );
      }
      const f = await timed(async () => {
        const out = await orchestrator.fanOut({ messages: [userTurn(PROMPT)], task: 'code' }, AGENTS);
        if (!out.results.every((x) => x.result.ok)) throw new Error('a fan-out call failed');
      });
      fan.push(f);
      slowest.push(slow);
      ratios.push(f / slow);
    }
    await orchestrator.flush();
    emitResult({
      agents: AGENTS.length,
      latencyMs: LATENCY_MS,
      rounds,
      fanOutMs: round(median(fan), 2),
      slowestSingleMs: round(median(slowest), 2),
      ratio: round(median(ratios), 3),
      ratioWorst: round(Math.max(...ratios), 3),
    });
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
