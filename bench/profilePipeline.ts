// Profiling aid, not part of `npm run bench`: runs the P1 pipeline and the bare SDK call with the
// same messages in blocks and prints the client CPU per request of each; run it under
// `node --cpu-prof --import tsx bench/profilePipeline.ts [N]` to see where the pipeline's time goes.
import { join } from 'node:path';
import type { ChatMessage } from '../src/core/types';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { getProvider, type Provider } from '../src/core/providers/provider';
import { BENCH_KEY, coreOpenAI, BenchSecrets, benchConfig, sampleContext, startSimulator, tempDir } from './harness';
import { median } from './stats';

const PROMPT = 'Refactor helper12 so that it handles negative values, and keep the signature.';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const sim = await startSimulator();
  try {
    const config = benchConfig(sim);
    const context = sampleContext();
    let sent: ChatMessage[] | undefined;
    const real = getProvider('openai');
    const capturing: Provider = { kind: 'openai', complete: (req) => ((sent ??= req.messages), real.complete(req)) };
    const dir = tempDir('prof');
    await new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'p.json')), providerFor: () => capturing }).run({ prompt: PROMPT, task: 'code', context });
    const messages = (sent ?? []).map((m) => ({ role: m.role, content: m.content }));
    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'state.json')) });
    orchestrator.events.on(() => undefined);
    const OpenAI = await coreOpenAI();
    const client = new OpenAI({ apiKey: BENCH_KEY, baseURL: sim.openaiBaseUrl, maxRetries: 0, logLevel: 'off' });
    const pipeline = async (): Promise<void> => {
      const r = await orchestrator.run({ prompt: PROMPT, task: 'code', context });
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
