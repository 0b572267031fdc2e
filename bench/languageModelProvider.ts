// P7: MAOF as VS Code's language-model provider. chatModelProvider.ts imports 'vscode', so this
// runs its pure pieces in Node the way it does: (a) provideTokenCount — the real tokenizer behind
// a memo keyed by text (MessageTokenCounter), for a 2 KB message after warm-up and for texts seen
// once; (b) time to the first reported part — VS Code-shaped messages with the Chat's tool list
// converted by toCoreMessages/toCoreTools and run through the whole pipeline, versus the bare SDK
// sending the same messages and tools.
//   node --import tsx bench/languageModelProvider.ts [--iterations N]
import { join } from 'node:path';
import { tokenizerFor } from '../src/core/context/tokenizer';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { toOpenAIMessages, toOpenAITools } from '../src/core/providers/toolWire';
import { toCoreMessages, toCoreTools, type LmMessageLike, type LmToolLike } from '../src/host/languageModels/lmMessages';
import { MessageTokenCounter } from '../src/host/languageModels/tokenCount';
import { argNumber, bareClient, benchConfig, BenchSecrets, emitResult, interleaved, startSimulator, tempDir } from './harness';
import { median, round, roundSummary, summarize } from './stats';

/** About 2 KB of code-like text, as a Chat message carries. */
function twoKb(seed: number): string {
  const lines: string[] = [];
  for (let i = 0; lines.join('\n').length < 2048; i++) lines.push(`export function helper${seed}_${i}(value: number): number { return value * ${i + seed} + ${i}; } // step ${i}`);
  return lines.join('\n').slice(0, 2048);
}

/** A tool list shaped like the native Chat's in agent mode (39 tools with small schemas). */
function chatTools(): LmToolLike[] {
  return Array.from({ length: 39 }, (_, i) => ({
    name: `tool_${i}`,
    description: `Tool number ${i}: does one thing in the workspace and reports what it did.`,
    inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'A workspace path' }, line: { type: 'number' } }, required: ['path'] },
  }));
}

function userMessage(text: string): LmMessageLike {
  return { role: 1, content: [{ value: text }], name: undefined };
}

async function main(): Promise<void> {
  const iterations = argNumber('--iterations', 1000);

  // (a) token counts
  const tokenizer = tokenizerFor('openai', 'gpt-4.1-mini');
  const counter = new MessageTokenCounter();
  const message = userMessage(twoKb(1));
  counter.count(tokenizer, message);
  const warm: number[] = [];
  const wire = JSON.stringify(message);
  for (let i = 0; i < 20_000; i++) {
    // VS Code hands over a new copy of the message every time (it crossed a process boundary):
    // a fresh string whose hash is not cached yet.
    const copy = JSON.parse(wire) as LmMessageLike;
    const t0 = performance.now();
    counter.count(tokenizer, copy);
    warm.push((performance.now() - t0) * 1000);
  }
  const cold: number[] = [];
  for (let i = 0; i < 300; i++) {
    const fresh = userMessage(twoKb(1000 + i));
    const t0 = performance.now();
    counter.count(tokenizer, fresh);
    cold.push((performance.now() - t0) * 1000);
  }

  // (b) time to the first reported part
  const sim = await startSimulator();
  try {
    const config = benchConfig(sim);
    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(tempDir('p7'), 'state.json')) });
    const client = await bareClient(sim, 'maof');
    const vscodeMessages: LmMessageLike[] = [
      userMessage('<context>The user has a TypeScript workspace open.</context>'),
      { role: 2, content: [{ value: 'Understood.' }], name: undefined },
      userMessage('Explain what helper12 returns for negative input and suggest a fix.'),
    ];
    const tools = chatTools();
    const coreMessages = toCoreMessages(vscodeMessages);
    const bareParams = { model: 'gpt-4.1-mini', messages: toOpenAIMessages(coreMessages), max_tokens: 1024, ...toOpenAITools(toCoreTools(tools), 'auto') };

    const pipeline = async (): Promise<number> => {
      const t0 = performance.now();
      let first = -1;
      // What provideLanguageModelChatResponse does per request.
      const conversation = toCoreMessages(vscodeMessages);
      const r = await orchestrator.run({
        instructions: 'own',
        messages: conversation,
        agentId: 'sim-a',
        tools: toCoreTools(tools),
        toolMode: 'auto',
        stream: true,
        onDelta: () => {
          if (first < 0) first = performance.now() - t0;
        },
      });
      if (!r.ok) throw new Error(`pipeline failed: ${r.error.code} ${r.error.message}`);
      return first;
    };
    const bare = async (): Promise<number> => {
      const t0 = performance.now();
      let first = -1;
      const stream = await client.chat.completions.create({ ...bareParams, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of stream) if (first < 0 && chunk.choices[0]?.delta?.content) first = performance.now() - t0;
      return first;
    };
    for (let i = 0; i < Math.min(200, iterations); i++) {
      await pipeline();
      await bare();
    }
    const [a, b] = await interleaved(iterations, pipeline, bare);
    await orchestrator.flush();
    const warmSummary = summarize(warm);
    emitResult({
      tokenCount: {
        messageBytes: 2048,
        tokens: counter.count(tokenizer, message),
        warmMicros: { p50: round(warmSummary.p50), p99: round(warmSummary.p99) },
        firstSightMicros: { p50: round(median(cold)), p99: round(summarize(cold).p99) },
      },
      firstPart: {
        iterations,
        tools: tools.length,
        pipeline: roundSummary(summarize(a)),
        bare: roundSummary(summarize(b)),
        addedP50: round(median(a) - median(b)),
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
