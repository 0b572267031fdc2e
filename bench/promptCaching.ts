// PC1: what provider prompt caching saves, against the simulator's cache model (OpenAI automatic
// from 1,024 tokens in 128-token steps, Anthropic up to the breakpoints MAOF marks), priced from the
// built-in table: a 10-turn chat with 30 k tokens of open-file context, and a 20-step agent loop
// with 40 tool schemas, each with caching on and off, per provider.
//   node --import tsx bench/promptCaching.ts
import { Orchestrator } from '../src/core/orchestrator';
import { parseConfig, type MaofConfig } from '../src/core/config/schema';
import { MemoryStateStore } from '../src/core/ports';
import type { ContextItem } from '../src/core/context/contextPruner';
import { userTurn, type ChatMessage, type ToolDefinition } from '../src/core/types';
import { ProviderSimulator, type SimulatorAddress } from '../src/simulator/providerSimulator';
import { DEFAULT_PROMPT_CACHE_TTL_MS } from '../src/simulator/promptCacheModel';
import { BenchSecrets, emitResult } from './harness';

const MODELS = { anthropic: 'claude-sonnet-4-6', openai: 'gpt-4.1' } as const;
type Provider = keyof typeof MODELS;

function config(addr: SimulatorAddress, provider: Provider, promptCache: boolean): MaofConfig {
  const { config: c, issues } = parseConfig({
    agents: [{ id: 'agent', provider, model: MODELS[provider], baseUrl: provider === 'openai' ? addr.openaiBaseUrl : addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 1024, requiresKey: true, promptCache }],
    routes: { code: ['agent'], writing: ['agent'], analysis: ['agent'] },
    context: { maxContextTokens: 40_000 },
    cache: { enabled: false },
  });
  if (issues.length > 0) throw new Error(`bench config invalid: ${JSON.stringify(issues)}`);
  return c;
}

/** Open files of about 30 k tokens in all (the simulator's four characters a token). */
function openFiles(): ContextItem[] {
  const files: ContextItem[] = [];
  for (let f = 0; f < 6; f++) {
    const lines: string[] = [];
    for (let i = 0; lines.join('\n').length < 20_000; i++) lines.push(`export function helper${f}_${i}(value: number): number { return value * ${i} + ${f}; }`);
    files.push({ id: `file${f}`, kind: f === 0 ? 'activeFile' : 'openTab', label: `src/module${f}.ts`, text: lines.join('\n'), version: 1 });
  }
  return files;
}

const TOOLS: ToolDefinition[] = Array.from({ length: 40 }, (_, i) => ({
  name: `workspace_tool_${i}`,
  description: `Tool ${i}: one of the editor's tools (read a file, search, run a task, edit a range...), described as fully as the real ones are so that the model knows when to use it and with what input.`,
  inputSchema: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'A workspace-relative file path' },
      query: { type: 'string', description: 'What to look for, as text or a regular expression' },
      range: { type: 'object', properties: { start: { type: 'number' }, end: { type: 'number' } } },
    },
    required: ['path'],
  },
}));

async function chat(sim: ProviderSimulator, addr: SimulatorAddress, provider: Provider, promptCache: boolean): Promise<{ costUsd: number; cacheReadTokens: number; inputTokens: number }> {
  sim.clearPromptCache();
  const o = new Orchestrator({ config: config(addr, provider, promptCache), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  const context = openFiles();
  let costUsd = 0;
  let cacheReadTokens = 0;
  let inputTokens = 0;
  for (let turn = 0; turn < 10; turn++) {
    const r = await o.run({ messages: [userTurn(`Question ${turn}: what does helper1_${turn} return for negative values? [[words:60]]`)], task: 'code', sessionId: 'bench-chat', context, structured: false });
    if (!r.ok) throw new Error(`chat turn failed: ${r.error.code} ${r.error.message}`);
    costUsd += r.costUsd;
    cacheReadTokens += r.usage.cacheReadTokens;
    inputTokens += r.usage.inputTokens + r.usage.cacheReadTokens + r.usage.cacheWriteTokens;
  }
  return { costUsd, cacheReadTokens, inputTokens };
}

async function agentLoop(sim: ProviderSimulator, addr: SimulatorAddress, provider: Provider, promptCache: boolean): Promise<{ costUsd: number; cacheReadTokens: number; inputTokens: number }> {
  sim.clearPromptCache();
  const o = new Orchestrator({ config: config(addr, provider, promptCache), secrets: new BenchSecrets(), store: new MemoryStateStore() });
  const conversation: ChatMessage[] = [
    { role: 'system', content: 'You are a coding agent working in the user\'s workspace. Use the tools to read and change files; explain what you changed. '.repeat(8) },
    { role: 'user', content: 'Make helper3 handle negative values and add a test. [[tool:workspace_tool_1 {"path":"src/module3.ts"}]]' },
  ];
  let costUsd = 0;
  let cacheReadTokens = 0;
  let inputTokens = 0;
  for (let step = 0; step < 20; step++) {
    const r = await o.run({ instructions: 'own', task: 'code', messages: [...conversation], tools: TOOLS, structured: false });
    if (!r.ok) throw new Error(`agent step failed: ${r.error.code} ${r.error.message}`);
    costUsd += r.costUsd;
    cacheReadTokens += r.usage.cacheReadTokens;
    inputTokens += r.usage.inputTokens + r.usage.cacheReadTokens + r.usage.cacheWriteTokens;
    const call = r.toolCalls?.[0];
    if (call) {
      conversation.push({ role: 'assistant', content: '', parts: [{ type: 'tool_call', id: call.id, name: call.name, input: call.input }] });
      // A tool result the size of a file excerpt (about 500 tokens).
      conversation.push({ role: 'user', content: '', parts: [{ type: 'tool_result', callId: call.id, content: `step ${step}: ` + 'const x = helper3(-1); // excerpt of the file read\n'.repeat(40) }] });
    } else {
      conversation.push({ role: 'assistant', content: r.text }, { role: 'user', content: `Continue. [[tool:workspace_tool_${(step * 7) % 40} {"path":"src/module${step % 6}.ts"}]]` });
    }
  }
  return { costUsd, cacheReadTokens, inputTokens };
}

async function main(): Promise<void> {
  const sim = new ProviderSimulator();
  const addr = await sim.start();
  try {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [name, scenario] of [['chat', chat], ['agentLoop', agentLoop]] as const) {
      out[name] = {};
      for (const provider of ['anthropic', 'openai'] as const) {
        const on = await scenario(sim, addr, provider, true);
        // MAOF asks for nothing, but OpenAI still caches whatever prefix happens to repeat.
        const off = await scenario(sim, addr, provider, false);
        // No provider cache at all: the cost the targets are measured against.
        sim.setPromptCacheTtl(0);
        const uncached = await scenario(sim, addr, provider, false);
        sim.setPromptCacheTtl(DEFAULT_PROMPT_CACHE_TTL_MS);
        out[name][provider] = { on, off, uncached, ratio: on.costUsd / uncached.costUsd, offRatio: off.costUsd / uncached.costUsd };
      }
    }
    emitResult(out);
  } finally {
    await sim.stop();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
