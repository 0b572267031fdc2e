// Prompt caching on every surface, through the real SDKs against the simulator's cache model:
// what the adapters sent (Anthropic breakpoints, OpenAI's prompt_cache_key, a byte-stable prefix)
// and what the user is billed for the next turn of a chat, an agent-mode conversation and a chain.
import assert from 'node:assert/strict';
import { ProviderSimulator, type RequestLogEntry, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { makeOrchestrator, simConfig } from '../helpers/orchestratorHarness';
import type { RunResult, RunSuccess } from '../../../src/core/orchestrator';
import type { ContextItem } from '../../../src/core/context/contextPruner';
import { userTurn, type ChatMessage, type ToolDefinition } from '../../../src/core/types';
import { toJson } from '../../../src/cli/main';

function ok(r: RunResult): RunSuccess {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r;
}

/** An open file of about `tokens` tokens. */
function openFile(label: string, tokens: number): ContextItem {
  const lines: string[] = [];
  for (let i = 0; lines.join('\n').length < tokens * 4; i++) lines.push(`export const value${i} = ${i} * 2; // ${label}`);
  return { id: label, kind: 'openTab', label, text: lines.join('\n') };
}

const CONTEXT = [openFile('src/a.ts', 4000), openFile('src/b.ts', 3000)];
const TOOLS: ToolDefinition[] = Array.from({ length: 40 }, (_, i) => ({
  name: `tool_${i}`,
  description: `Tool number ${i}: reads or changes the workspace in one specific way, described at length so that the schema weighs what real ones do.`,
  inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'A workspace-relative path' }, count: { type: 'number' } }, required: ['path'] },
}));

type Body = Record<string, unknown>;
const body = (e: RequestLogEntry | undefined): Body => (e?.body ?? {}) as Body;
const breakpoints = (b: Body): number => (JSON.stringify(b).match(/"cache_control"/g) ?? []).length;

describe('prompt caching through the adapters (real SDKs, simulator cache model)', function () {
  this.timeout(20_000);
  const sim = new ProviderSimulator({ keepBodies: true });
  let addr: SimulatorAddress;
  before(async () => {
    addr = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  function config(): ReturnType<typeof simConfig> {
    return simConfig(addr, {
      agents: [
        { id: 'an', provider: 'anthropic', model: 'claude-sonnet-4-6', baseUrl: addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, requiresKey: true },
        { id: 'an-off', provider: 'anthropic', model: 'claude-sonnet-4-6', baseUrl: addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, requiresKey: true, promptCache: false },
        { id: 'haiku', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, requiresKey: true },
        { id: 'oa', provider: 'openai', model: 'gpt-4.1', baseUrl: addr.openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, requiresKey: true, promptCacheKey: true },
        { id: 'oa-compat', provider: 'openai', model: 'gpt-4.1', baseUrl: addr.openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, requiresKey: true },
      ],
      routes: { code: ['an', 'oa'], writing: ['oa', 'an'], analysis: ['an', 'oa'] },
    });
  }

  describe('Anthropic', () => {
    it('marks breakpoints after the instructions, the context and the conversation, and the next chat turn reads them', async () => {
      const { orchestrator } = makeOrchestrator(config());
      const t1 = ok(await orchestrator.run({ messages: [userTurn('What does value3 do?')], agentId: 'an', task: 'code', sessionId: 's1', context: CONTEXT, structured: false }));
      const t2 = ok(await orchestrator.run({ messages: [userTurn('And value4?')], agentId: 'an', task: 'code', sessionId: 's1', context: CONTEXT, structured: false }));
      const sent = body(sim.requestLog().at(-1));
      const system = sent.system as Array<{ text: string; cache_control?: unknown }>;
      assert.equal(system.length, 2, 'instructions and context are separate system blocks');
      assert.ok(system[0].cache_control === undefined || system[0].text.length >= 4096, 'no breakpoint on a prefix below the minimum');
      assert.ok(system[1].cache_control, 'a breakpoint after the context');
      assert.ok(breakpoints(sent) >= 2 && breakpoints(sent) <= 4);
      // First turn: the context is written once; second turn: read back at a tenth of the price.
      assert.equal(t1.usage.cacheReadTokens, 0);
      assert.ok(t1.usage.cacheWriteTokens > 7000, `written ${t1.usage.cacheWriteTokens}`);
      assert.ok(t2.usage.cacheReadTokens >= t1.usage.cacheWriteTokens, `read ${t2.usage.cacheReadTokens}`);
      assert.ok(t2.usage.inputTokens < 100, `uncached ${t2.usage.inputTokens}`);
      assert.ok(t2.costUsd < t1.costUsd / 3, `turn 2 $${t2.costUsd} vs turn 1 $${t1.costUsd}`);
      // The savings are the provider's, told apart from MAOF's response cache.
      assert.ok((t1.promptCacheSavedUsd ?? 0) < 0, 'turn 1 paid the write premium');
      const expected = (t2.usage.cacheReadTokens * (3 - 0.3) - t2.usage.cacheWriteTokens * (3.75 - 3)) / 1e6;
      assert.ok(Math.abs((t2.promptCacheSavedUsd ?? 0) - expected) < 1e-9, `saved ${t2.promptCacheSavedUsd}`);
      const json = toJson(t2);
      assert.equal(json.promptCacheSavedUsd, Math.round(expected * 1e8) / 1e8);
      assert.equal(json.cachedInputTokens, t2.usage.cacheReadTokens);
      assert.equal(json.cached, false);
      assert.equal(json.responseCacheSavedUsd, undefined);
    });

    it('tells a response-cache hit (MAOF, no provider call) from provider prompt caching', async () => {
      const { orchestrator } = makeOrchestrator(config());
      const first = ok(await orchestrator.run({ messages: [userTurn('same question')], agentId: 'an', task: 'code', temperature: 0, structured: false }));
      const again = ok(await orchestrator.run({ messages: [userTurn('same question')], agentId: 'an', task: 'code', temperature: 0, structured: false }));
      assert.equal(again.cached, true);
      const json = toJson(again);
      assert.equal(json.responseCacheSavedUsd, Math.round(first.costUsd * 1e8) / 1e8);
      assert.equal(json.promptCacheSavedUsd, undefined);
    });

    it('asks for nothing on a one-shot command (a cache write costs more than input)', async () => {
      const { orchestrator } = makeOrchestrator(config());
      const r = ok(await orchestrator.run({ messages: [userTurn('What does value3 do?')], agentId: 'an', task: 'code', context: CONTEXT, structured: false }));
      assert.equal(breakpoints(body(sim.requestLog().at(-1))), 0);
      assert.equal(r.usage.cacheWriteTokens, 0);
    });

    it('asks for nothing when the agent turned prompt caching off', async () => {
      const { orchestrator } = makeOrchestrator(config());
      ok(await orchestrator.run({ messages: [userTurn('q1')], agentId: 'an-off', task: 'code', sessionId: 's2', context: CONTEXT, structured: false }));
      const r = ok(await orchestrator.run({ messages: [userTurn('q2')], agentId: 'an-off', task: 'code', sessionId: 's2', context: CONTEXT, structured: false }));
      assert.equal(breakpoints(body(sim.requestLog().at(-1))), 0);
      assert.equal(r.usage.cacheReadTokens, 0);
    });

    it('marks nothing below the model\'s minimum (Haiku 4.5 caches 4,096 tokens and more)', async () => {
      const { orchestrator } = makeOrchestrator(config());
      ok(await orchestrator.run({ messages: [userTurn('q1')], agentId: 'haiku', task: 'code', sessionId: 's3', context: [openFile('small.ts', 2500)], structured: false }));
      assert.equal(breakpoints(body(sim.requestLog().at(-1))), 0);
    });

    it('caches the tools and the growing conversation of an agent-mode loop', async () => {
      const { orchestrator } = makeOrchestrator(config());
      const conversation: ChatMessage[] = [{ role: 'system', content: 'You are a coding agent.' }, { role: 'user', content: 'Fix the bug [[tool:tool_3 {"path":"a.ts"}]]' }];
      const reads: number[] = [];
      for (let step = 0; step < 3; step++) {
        const r = ok(await orchestrator.run({ instructions: 'own', agentId: 'an', task: 'code', messages: [...conversation], tools: TOOLS, structured: false }));
        reads.push(r.usage.cacheReadTokens);
        const call = r.toolCalls?.[0];
        if (call) {
          conversation.push({ role: 'assistant', content: '', parts: [{ type: 'tool_call', id: call.id, name: call.name, input: call.input }] });
          conversation.push({ role: 'user', content: '', parts: [{ type: 'tool_result', callId: call.id, content: `result of step ${step} `.repeat(50) }] });
        } else {
          conversation.push({ role: 'assistant', content: r.text }, { role: 'user', content: `Go on [[tool:tool_${step}]]` });
        }
      }
      const sent = body(sim.requestLog().at(-1));
      assert.ok(breakpoints(sent) >= 2 && breakpoints(sent) <= 4, `breakpoints ${breakpoints(sent)}`);
      assert.equal(reads[0], 0);
      // Each step reads everything the previous step sent (40 tool schemas and the conversation so far).
      assert.ok(reads[1] > 2000 && reads[2] > reads[1], `reads ${reads.join(', ')}`);
    });

    it('caches the shared context across the steps of a chain', async () => {
      const { orchestrator } = makeOrchestrator(config());
      const r = await orchestrator.chain([{ prompt: 'Summarise {{input}}', agentId: 'an', task: 'code' }, { prompt: 'Now list risks in {{previous}}', agentId: 'an', task: 'code' }], 'the module', { context: CONTEXT });
      assert.ok(r.ok);
      const step2 = r.steps[1].result;
      assert.ok(step2.usage.cacheReadTokens > 7000, `read ${step2.usage.cacheReadTokens}`);
    });
  });

  it('keeps the context cached when the task changes between turns (auto classifies each turn)', async () => {
    const { orchestrator } = makeOrchestrator(config());
    ok(await orchestrator.run({ messages: [userTurn('Write a function like value3')], agentId: 'oa-compat', task: 'code', sessionId: 's7', context: CONTEXT, structured: false }));
    const t2 = ok(await orchestrator.run({ messages: [userTurn('Review value4 for bugs')], agentId: 'oa-compat', task: 'analysis', sessionId: 's7', context: CONTEXT, structured: false }));
    // The ~7,000 tokens of context, in 128-token steps; the new instructions and what follows are not.
    assert.ok(t2.usage.cacheReadTokens > 6500, `cached ${t2.usage.cacheReadTokens}`);
  });

  it('keeps the open files cached when the user types in the active file (what moves goes last)', async () => {
    const { orchestrator } = makeOrchestrator(config());
    const tabs = [openFile('src/z-tab.ts', 3000), openFile('src/y-tab.ts', 3000)];
    const active = (typed: string): ContextItem => ({ id: 'active', kind: 'activeFile', label: 'src/active.ts', text: `export const edited = '${typed}';\n`.repeat(20), cursorOffset: 10 });
    ok(await orchestrator.run({ messages: [userTurn('q1')], agentId: 'oa-compat', task: 'code', sessionId: 's8', context: [active('a'), ...tabs], structured: false }));
    const t2 = ok(await orchestrator.run({ messages: [userTurn('q2')], agentId: 'oa-compat', task: 'code', sessionId: 's8', context: [active('ab'), ...tabs], structured: false }));
    const system = (sim.requestLog().at(-1)?.body as { messages: Array<{ content: string }> }).messages[0].content;
    assert.ok(system.indexOf('src/y-tab.ts') < system.indexOf('src/z-tab.ts') && system.indexOf('src/z-tab.ts') < system.indexOf('src/active.ts'), 'tabs by name, then the active file');
    // The pruner's own order (active file first) would make the keystroke the end of the cached prefix.
    assert.ok(t2.usage.cacheReadTokens > 5500, `cached ${t2.usage.cacheReadTokens}`);
  });

  describe('OpenAI and compatible', () => {
    it('keeps the prefix byte-identical from turn to turn, so the context is cached automatically', async () => {
      const { orchestrator } = makeOrchestrator(config());
      ok(await orchestrator.run({ messages: [userTurn('What does value3 do?')], agentId: 'oa-compat', task: 'code', sessionId: 's4', context: CONTEXT, structured: false }));
      const t2 = ok(await orchestrator.run({ messages: [userTurn('And value4?')], agentId: 'oa-compat', task: 'code', sessionId: 's4', context: CONTEXT, structured: false }));
      const [first, second] = sim.requestLog().slice(-2).map((e) => body(e).messages as unknown[]);
      assert.deepEqual(second.slice(0, first.length - 1), first.slice(0, -1), 'turn 2 starts with turn 1 (its new turn became history)');
      assert.ok(t2.usage.cacheReadTokens > 6500, `cached ${t2.usage.cacheReadTokens}`);
      assert.equal(t2.usage.cacheReadTokens % 128, 0);
    });

    it('sends prompt_cache_key per conversation only where the agent allows it', async () => {
      const { orchestrator } = makeOrchestrator(config());
      ok(await orchestrator.run({ messages: [userTurn('q1')], agentId: 'oa', task: 'code', sessionId: 's5', structured: false }));
      ok(await orchestrator.run({ messages: [userTurn('q2')], agentId: 'oa', task: 'code', sessionId: 's5', structured: false }));
      ok(await orchestrator.run({ messages: [userTurn('q3')], agentId: 'oa', task: 'code', sessionId: 's6', structured: false }));
      ok(await orchestrator.run({ messages: [userTurn('q4')], agentId: 'oa-compat', task: 'code', sessionId: 's5', structured: false }));
      ok(await orchestrator.run({ messages: [userTurn('q5')], agentId: 'oa', task: 'code', structured: false }));
      const keys = sim.requestLog().slice(-5).map((e) => body(e).prompt_cache_key);
      assert.equal(typeof keys[0], 'string');
      assert.equal(keys[1], keys[0], 'one key per conversation');
      assert.notEqual(keys[2], keys[0], 'another conversation, another key');
      assert.ok(!(keys[0] as string).includes('s5'), 'the key says nothing about the session');
      assert.equal(keys[3], undefined, 'not sent to a compatible server that did not opt in');
      assert.equal(keys[4], undefined, 'not sent for a one-shot request');
    });
  });
});
