// Tool calls through both real SDK clients against the simulator, which enforces the APIs' own
// call/result linkage: a call comes back whole (streamed or not), its result goes back under the
// same id, a conversation begun on one provider continues on the other, `required` forces a call,
// and through the orchestrator a dead primary falls back with the tools intact.
import assert from 'node:assert/strict';
import { agentSchema, type AgentConfig } from '../../../src/core/config/schema';
import { AnthropicProvider } from '../../../src/core/providers/anthropicProvider';
import { OpenAIProvider } from '../../../src/core/providers/openaiProvider';
import type { Provider, ProviderRequest } from '../../../src/core/providers/provider';
import type { ChatMessage, ToolCall, ToolDefinition } from '../../../src/core/types';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { makeOrchestrator, simConfig } from '../helpers/orchestratorHarness';

const KEY = 'sk-sim-tools-key-0123456789abcdef';
const TOOLS: ToolDefinition[] = [
  { name: 'read_file', description: 'Reads a file of the workspace', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
  { name: 'list_dir', description: 'Lists a folder', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
];

type Kind = 'openai' | 'anthropic';

describe('tool calls through both SDKs', () => {
  const sim = new ProviderSimulator();
  let address: SimulatorAddress;
  const providers: Record<Kind, Provider> = { openai: new OpenAIProvider(), anthropic: new AnthropicProvider() };

  before(async () => {
    address = await sim.start(0);
  });
  after(() => sim.stop());

  function agent(kind: Kind): AgentConfig {
    return agentSchema.parse({
      id: `tools-${kind}`,
      provider: kind,
      model: kind === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5',
      baseUrl: kind === 'openai' ? address.openaiBaseUrl : address.anthropicBaseUrl,
      contextWindow: 200_000,
    });
  }

  function request(kind: Kind, messages: ChatMessage[], stream: boolean, extra: Partial<ProviderRequest> = {}): ProviderRequest {
    return { agent: agent(kind), apiKey: KEY, messages, maxOutputTokens: 256, stream, signal: new AbortController().signal, tools: TOOLS, ...extra };
  }

  const ask: ChatMessage = { role: 'user', content: 'Open it [[tool:read_file {"path":"src/a.ts"}]]' };

  for (const kind of ['openai', 'anthropic'] as const) {
    for (const stream of [false, true]) {
      it(`${kind}, ${stream ? 'streaming' : 'not streaming'}: a call comes back whole, and its result reaches the model`, async () => {
        const seen: ToolCall[] = [];
        const first = await providers[kind].complete(request(kind, [ask], stream, { onToolCall: (c) => seen.push(c) }));
        assert.equal(first.finishReason, 'tool_calls');
        assert.equal(first.text, '');
        assert.equal(first.toolCalls?.length, 1);
        const call = first.toolCalls[0];
        assert.equal(call.name, 'read_file');
        assert.deepEqual(call.input, { path: 'src/a.ts' });
        assert.deepEqual(seen, [call], 'onToolCall saw the same call once');
        assert.ok(first.usage.outputTokens > 0);

        const second = await providers[kind].complete(request(kind, [
          ask,
          { role: 'assistant', content: '', parts: [{ type: 'tool_call', id: call.id, name: call.name, input: call.input }] },
          { role: 'user', content: 'export const a = 1;', parts: [{ type: 'tool_result', callId: call.id, content: 'export const a = 1;' }] },
        ], stream));
        assert.equal(second.toolCalls, undefined);
        assert.match(second.text, /the tool returned: export const a = 1;/);
      });
    }
  }

  it('continues on Anthropic a conversation whose tool call OpenAI made (ids and roles translated)', async () => {
    const first = await providers.openai.complete(request('openai', [ask], true));
    const call = first.toolCalls![0];
    assert.match(call.id, /^call_/);
    const history: ChatMessage[] = [
      ask,
      { role: 'assistant', content: '', parts: [{ type: 'text', text: 'Reading it.' }, { type: 'tool_call', id: `${call.id}:vscode/1`, name: call.name, input: call.input }] },
      { role: 'user', content: '42', parts: [{ type: 'tool_result', callId: `${call.id}:vscode/1`, content: '42' }, { type: 'text', text: 'and summarise' }] },
    ];
    const onAnthropic = await providers.anthropic.complete(request('anthropic', history, true));
    assert.match(onAnthropic.text, /the tool returned/);
    const backOnOpenAI = await providers.openai.complete(request('openai', history, false));
    assert.match(backOnOpenAI.text, /the tool returned/);
  });

  it('the simulator refuses a tool result that answers no call, as the real APIs do', async () => {
    for (const kind of ['openai', 'anthropic'] as const) {
      await assert.rejects(
        providers[kind].complete(request(kind, [ask, { role: 'user', content: 'x', parts: [{ type: 'tool_result', callId: 'call_nobody', content: 'x' }] }], false)),
        (err: { code?: string }) => err.code === 'BAD_REQUEST',
      );
    }
  });

  for (const kind of ['openai', 'anthropic'] as const) {
    it(`${kind}: toolMode required makes the model call a tool`, async () => {
      const r = await providers[kind].complete(request(kind, [{ role: 'user', content: 'anything' }], true, { toolMode: 'required' }));
      assert.equal(r.toolCalls?.[0]?.name, 'read_file');
      const free = await providers[kind].complete(request(kind, [{ role: 'user', content: 'anything' }], true));
      assert.equal(free.toolCalls, undefined);
    });
  }

  it('images go as each API takes them; an attachment no model reads is refused before anything is sent', async () => {
    const seen = new ProviderSimulator({ keepBodies: true });
    const at = await seen.start(0);
    try {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
      const look: ChatMessage = { role: 'user', content: 'what is this?', parts: [{ type: 'text', text: 'what is this?' }, { type: 'data', mimeType: 'image/png', data: png }] };
      const base64 = Buffer.from(png).toString('base64');
      for (const kind of ['openai', 'anthropic'] as const) {
        const a = agentSchema.parse({ id: `img-${kind}`, provider: kind, model: kind === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5', baseUrl: kind === 'openai' ? at.openaiBaseUrl : at.anthropicBaseUrl, contextWindow: 200_000 });
        const r = await providers[kind].complete({ agent: a, apiKey: KEY, messages: [look], maxOutputTokens: 64, stream: false, signal: new AbortController().signal });
        assert.match(r.text, /what is this/);
        const body = JSON.stringify(seen.requestLog(1)[0]?.body);
        if (kind === 'openai') assert.ok(body.includes(`data:image/png;base64,${base64}`), body);
        else assert.ok(body.includes(`"type":"image"`) && body.includes(`"media_type":"image/png"`) && body.includes(base64), body);
      }
      const before = seen.tally().requests;
      const pdf: ChatMessage = { role: 'user', content: 'read it', parts: [{ type: 'data', mimeType: 'application/pdf', data: png }] };
      for (const kind of ['openai', 'anthropic'] as const) {
        const a = agentSchema.parse({ id: `pdf-${kind}`, provider: kind, model: kind === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5', baseUrl: kind === 'openai' ? at.openaiBaseUrl : at.anthropicBaseUrl, contextWindow: 200_000 });
        await assert.rejects(
          providers[kind].complete({ agent: a, apiKey: KEY, messages: [pdf], maxOutputTokens: 64, stream: false, signal: new AbortController().signal }),
          (err: { code?: string; message?: string }) => err.code === 'BAD_REQUEST' && /application\/pdf.*cannot read/.test(err.message ?? ''),
        );
      }
      assert.equal(seen.tally().requests, before, 'nothing was sent');
    } finally {
      await seen.stop();
    }
  });

  it('through the orchestrator: a dead primary falls back to the other provider with the tools, and nothing is cached', async () => {
    const config = simConfig(address, { cache: { enabled: true, onlyDeterministic: false } });
    const { orchestrator } = makeOrchestrator(config);
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 10 }]);
    try {
      const calls: ToolCall[] = [];
      const r = await orchestrator.run({ instructions: 'own', task: 'code', messages: [ask], tools: TOOLS, stream: true, onDelta: () => undefined, onToolCall: (c) => calls.push(c) });
      assert.equal(r.ok, true, JSON.stringify(!r.ok && r.error));
      if (!r.ok) return;
      assert.equal(r.agentId, 'an');
      assert.deepEqual(r.toolCalls?.map((c) => c.name), ['read_file']);
      assert.equal(calls.length, 1);
      const again = await orchestrator.run({ instructions: 'own', task: 'code', messages: [ask], tools: TOOLS, temperature: 0 });
      assert.equal(again.ok && again.cached, false, 'a tool-calling answer is never served from the cache');
    } finally {
      sim.reset();
    }
  });
});
