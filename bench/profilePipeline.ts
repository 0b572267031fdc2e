// Profiling aid: runs only the pipeline (or only the bare SDK call) N times against the simulator,
// for `node --cpu-prof --import tsx bench/profilePipeline.ts [pipeline|bare] [N]`.
import { join } from 'node:path';
import { OpenAI } from 'openai';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { BENCH_KEY, BenchSecrets, benchConfig, sampleContext, startSimulator, tempDir } from './harness';

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'pipeline';
  const n = Number(process.argv[3] ?? 3000);
  const sim = await startSimulator();
  try {
    const orchestrator = new Orchestrator({ config: benchConfig(sim), secrets: new BenchSecrets(), store: new FileStateStore(join(tempDir('prof'), 'state.json')) });
    orchestrator.events.on(() => undefined);
    const client = new OpenAI({ apiKey: BENCH_KEY, baseURL: sim.openaiBaseUrl, maxRetries: 0, logLevel: 'off' });
    const context = sampleContext();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (mode === 'bare') await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Refactor helper12' }], max_tokens: 1024 });
      else {
        const r = await orchestrator.run({ prompt: 'Refactor helper12 so that it handles negative values, and keep the signature.', task: 'code', context });
        if (!r.ok) throw new Error(r.error.message);
      }
    }
    const cpu = process.cpuUsage(cpu0);
    console.log(`${mode}: ${((performance.now() - t0) / n).toFixed(3)} ms/req wall, ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms/req cpu`);
    await orchestrator.flush();
  } finally {
    await sim.stop();
  }
}

void main();
