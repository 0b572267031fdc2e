// Profiling aid, not part of `npm run bench`: runs the P1 pipeline and the bare SDK call with the
// same messages in blocks and prints the client CPU per request of each; run it under
// `node --cpu-prof --import tsx bench/profilePipeline.ts [N]` to see where the pipeline's time goes.
import { join } from 'node:path';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { bareClient, benchConfig, BenchSecrets, captureRequest, sampleContext, startSimulator, tempDir } from './harness';
import { median } from './stats';
import { userTurn } from '../src/core/types';

const PROMPT = 'Refactor helper12 so that it handles negative values, and keep the signature.';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const sim = await startSimulator();
  try {
    const config = benchConfig(sim);
    const context = sampleContext();
    const dir = tempDir('prof');
    const { messages } = await captureRequest(config, dir, { messages: [userTurn(PROMPT)], task: 'code', context });
    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'state.json')) });
    orchestrator.events.on(() => undefined);
    const client = await bareClient(sim, 'maof');
    const pipeline = async (): Promise<void> => {
      const r = await orchestrator.run({ messages: [userTurn(PROMPT)], task: 'code', context });
      if (!r.ok) throw new Error(r.error.message);
    };
    const bare = async (): Promise<void> => {
      await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, max_tokens: 1024, temperature: 0 });
    };
    const block = async (fn: () => Promise<void>, count: number): Promise<number> => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < count; i++) await fn();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000 / count;
    };
    await block(pipeline, 200);
    await block(bare, 200);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 10; r++) {
      a.push(await block(pipeline, n / 10));
      b.push(await block(bare, n / 10));
    }
    console.log(`client CPU per request: pipeline ${median(a).toFixed(3)} ms, bare ${median(b).toFixed(3)} ms, added ${(median(a) - median(b)).toFixed(3)} ms`);
    await orchestrator.flush();
  } finally {
    await sim.stop();
  }
}

void main();
