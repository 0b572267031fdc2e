// Stage 4 alone: what one agent is sent — instructions by mode, history, the caller's turns, the
// editor context pruned for that agent's window — and the refusal when even the fixed part is too big.
import assert from 'node:assert/strict';
import { prepareContext } from '../../../src/core/pipeline/prepareContext';
import type { ChatMessage } from '../../../src/core/types';
import { agentOf, stageConfig, stages, thrown } from '../helpers/pipelineHarness';

const KEY = 'sk-test';

describe('pipeline stage: prepare context', () => {
  it("'task' (the default): the task's system prompt and structured spec, the session history, then the new turn", () => {
    const s = stages();
    s.services.sessions.get('chat').add({ role: 'user', content: 'earlier question', task: 'analysis', at: 0 });
    s.services.sessions.get('chat').add({ role: 'assistant', content: 'earlier answer', task: 'analysis', at: 0 });
    const ctx = Object.assign(s.context({ prompt: 'review this', sessionId: 'chat', system: 'Be brief.' }), { task: 'analysis' });
    const call = prepareContext(ctx, agentOf(s, 'b'), KEY);
    const [system, ...rest] = call.messages;
    assert.equal(system.role, 'system');
    assert.match(system.content, /^You are a senior reviewer\./);
    assert.match(system.content, /Be brief\./);
    assert.match(system.content, /Respond with JSON only/, 'the structured spec of analysis');
    assert.ok(call.spec && call.json);
    assert.deepEqual(rest.map((m) => [m.role, m.content]), [['user', 'earlier question'], ['assistant', 'earlier answer'], ['user', 'review this']]);
    assert.ok(call.inputTokens > 0);
  });

  it("'own': the caller's conversation as it is — no task prompt, no spec, no session history", () => {
    const s = stages();
    const conversation: ChatMessage[] = [
      { role: 'system', content: 'You are VS Code Chat.' },
      { role: 'user', content: 'review this' },
    ];
    const ctx = Object.assign(s.context({ instructions: 'own', messages: conversation, sessionId: 'chat' }), { task: 'analysis' });
    s.services.sessions.get('chat').add({ role: 'user', content: 'not sent', task: 'analysis', at: 0 });
    const call = prepareContext(ctx, agentOf(s, 'b'), KEY);
    assert.deepEqual(call.messages, conversation);
    assert.equal(call.spec, undefined);
  });

  it('redacts key-like strings from the turns before they leave', () => {
    const s = stages();
    const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    const call = prepareContext(Object.assign(s.context({ prompt: `why does ${secret} fail?` }), { task: 'code' }), agentOf(s, 'a'), KEY);
    assert.ok(!call.messages.some((m) => m.content.includes(secret)));
    const own = prepareContext(Object.assign(s.context({ instructions: 'own', messages: [{ role: 'user', content: `my key is ${secret}` }] }), { task: 'code' }), agentOf(s, 'a'), KEY);
    assert.ok(!own.messages.some((m) => m.content.includes(secret)), "an 'own' conversation too");
  });

  it("prunes the editor context for this agent's own window, and says what it dropped", () => {
    const s = stages(stageConfig({ agents: [{ id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 3_000, maxOutputTokens: 512 }, { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 512 }] }));
    const context = [
      { id: 'sel', kind: 'selection' as const, label: 'sel.ts', text: 'const selected = 1;' },
      { id: 'tab', kind: 'openTab' as const, label: 'big.ts', text: 'export const x = 1;\n'.repeat(2_000) },
    ];
    const small = prepareContext(Object.assign(s.context({ context }), { task: 'code' }), agentOf(s, 'a'), KEY);
    const sent = small.messages.map((m) => m.content).join('\n');
    assert.match(sent, /const selected = 1;/);
    assert.ok(small.inputTokens <= 3_000 - 512, `${small.inputTokens} tokens fit the window less the answer`);
    const pruned = s.events.find((e) => e.type === 'context.pruned');
    assert.ok(pruned && pruned.type === 'context.pruned' && pruned.agentId === 'a' && (pruned.dropped.includes('big.ts') || pruned.truncated.includes('big.ts')));
    const large = prepareContext(Object.assign(s.context({ context }), { task: 'code' }), agentOf(s, 'b'), KEY);
    assert.ok(large.messages.map((m) => m.content).join('\n').length > sent.length * 5, 'a larger window keeps the file');
  });

  it('refuses an agent whose window cannot hold even the prompt (CONTEXT_TOO_LARGE, recorded as an attempt)', async () => {
    const s = stages(stageConfig({ agents: [{ id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 1_000, maxOutputTokens: 512 }, { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 512 }] }));
    const ctx = Object.assign(s.context({ prompt: 'implement a heap '.repeat(400) }), { task: 'code' });
    const err = await thrown(() => prepareContext(ctx, agentOf(s, 'a'), KEY));
    assert.equal(err.code, 'CONTEXT_TOO_LARGE');
    assert.match(err.message, /larger than agent "a"'s context window \(1,000 tokens\)/);
    assert.deepEqual(ctx.attempts, [{ agent: 'a', outcome: 'CONTEXT_TOO_LARGE' }]);
    prepareContext(ctx, agentOf(s, 'b'), KEY);
  });

  it("an 'own' conversation too long for the window loses its oldest turns (a tool call with its result), not the request", async () => {
    const s = stages(stageConfig({ agents: [{ id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 3_000, maxOutputTokens: 512 }, { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 512 }] }));
    const filler = (i: number): string => `turn ${i}: ${'lorem ipsum dolor sit amet '.repeat(40)}`;
    const conversation: ChatMessage[] = [{ role: 'system', content: 'You are VS Code Chat.' }];
    for (let i = 0; i < 12; i++) {
      conversation.push({ role: 'user', content: filler(i) });
      conversation.push({ role: 'assistant', content: `calling ls ${i}`, parts: [{ type: 'text', text: `calling ls ${i}` }, { type: 'tool_call', id: `c${i}`, name: 'ls', input: {} }] });
      conversation.push({ role: 'user', content: `a.ts ${i}`, parts: [{ type: 'tool_result', callId: `c${i}`, content: `a.ts ${i}` }] });
      conversation.push({ role: 'assistant', content: filler(i) });
    }
    conversation.push({ role: 'user', content: 'and now the last question' });
    const ctx = Object.assign(s.context({ instructions: 'own', messages: conversation }), { task: 'code' });
    const call = prepareContext(ctx, agentOf(s, 'a'), KEY);
    assert.ok(call.inputTokens <= 3_000 - 512, `${call.inputTokens} tokens fit the window less the answer`);
    assert.ok(call.messages.length < conversation.length, 'turns were left out');
    assert.deepEqual(call.messages[0], conversation[0], 'the system turn stays');
    assert.equal(call.messages.at(-1)?.content, 'and now the last question');
    // Every kept result has its call, and every kept call its result.
    const calls = new Set(call.messages.flatMap((m) => (m.parts ?? []).flatMap((p) => (p.type === 'tool_call' ? [p.id] : []))));
    const results = new Set(call.messages.flatMap((m) => (m.parts ?? []).flatMap((p) => (p.type === 'tool_result' ? [p.callId] : []))));
    assert.deepEqual([...calls].sort(), [...results].sort());
    const pruned = s.events.find((e) => e.type === 'context.pruned');
    assert.ok(pruned && pruned.type === 'context.pruned' && /^\d+ earlier turns of the conversation$/.test(pruned.dropped[0]));
    assert.deepEqual(ctx.attempts, [], 'not a skipped agent');

    // A last turn that alone is too big is still refused.
    const huge = Object.assign(s.context({ instructions: 'own', messages: [{ role: 'user', content: 'implement a heap '.repeat(3000) }] }), { task: 'code' });
    assert.equal((await thrown(() => prepareContext(huge, agentOf(s, 'a'), KEY))).code, 'CONTEXT_TOO_LARGE');
  });
});
