// The core's message model (text, tool calls, tool results, images) in each wire format, both
// ways: requests out, streamed tool-call deltas back in. A conversation begun on one provider
// continues on the other: OpenAI's `tool` role and `tool_calls` map to Anthropic's `tool_use` /
// `tool_result` blocks, call ids kept (made safe for Anthropic's id pattern, the same way on both
// sides of a call).
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { ContentBlockParam, MessageParam, TextBlockParam, Tool as AnthropicTool, ToolChoice as AnthropicToolChoice } from '@anthropic-ai/sdk/resources/messages/messages';
import { MaofError } from '../errors';
import type { ChatMessage, MessagePart, ToolCall, ToolDefinition, ToolMode } from '../types';

const ANTHROPIC_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function base64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function unsupportedData(mimeType: string): MaofError {
  return new MaofError('BAD_REQUEST', `The message has an attachment of type ${mimeType}, which this model cannot read — remove it or pick a model that takes images.`);
}

/** Parses a tool call's JSON arguments; a model that wrote broken JSON gets them back as text. */
export function parseToolInput(json: string): unknown {
  if (!json.trim()) return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return { _raw: json };
  }
}

// ---- OpenAI ---------------------------------------------------------------------------------

export function toOpenAIMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const m of messages) {
    if (!m.parts) {
      out.push({ role: m.role, content: m.content });
      continue;
    }
    if (m.role === 'system') {
      out.push({ role: 'system', content: m.content });
    } else if (m.role === 'assistant') {
      const text = m.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');
      const calls = m.parts.filter((p): p is Extract<MessagePart, { type: 'tool_call' }> => p.type === 'tool_call');
      out.push(calls.length > 0
        ? { role: 'assistant', content: text || null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.input ?? {}) } })) }
        : { role: 'assistant', content: text });
    } else {
      // Tool results first, each its own `tool` message answering its call; then what the user said.
      for (const p of m.parts) if (p.type === 'tool_result') out.push({ role: 'tool', tool_call_id: p.callId, content: p.content });
      const rest = m.parts.filter((p) => p.type === 'text' || p.type === 'data');
      if (rest.some((p) => p.type === 'data')) {
        out.push({
          role: 'user',
          content: rest.map((p) => {
            if (p.type === 'text') return { type: 'text' as const, text: p.text };
            if (p.type !== 'data' || !p.mimeType.startsWith('image/')) throw unsupportedData(p.type === 'data' ? p.mimeType : 'unknown');
            return { type: 'image_url' as const, image_url: { url: `data:${p.mimeType};base64,${base64(p.data)}` } };
          }),
        });
      } else {
        const text = rest.map((p) => (p.type === 'text' ? p.text : '')).join('');
        if (text) out.push({ role: 'user', content: text });
      }
    }
  }
  return out;
}

export function toOpenAITools(tools: readonly ToolDefinition[], mode: ToolMode | undefined): { tools: ChatCompletionTool[]; tool_choice?: ChatCompletionToolChoiceOption } {
  const defs = tools.map((t): ChatCompletionTool => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } }));
  return mode === 'required' ? { tools: defs, tool_choice: 'required' } : { tools: defs };
}

interface OpenAIToolDelta {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** Collects streamed `tool_calls` deltas (by index) into whole calls. */
export class OpenAIToolCalls {
  private readonly calls: Array<{ id: string; name: string; args: string }> = [];

  add(deltas: readonly OpenAIToolDelta[] | undefined | null): void {
    if (!deltas) return;
    for (const d of deltas) {
      const c = (this.calls[d.index] ??= { id: '', name: '', args: '' });
      if (d.id) c.id = d.id;
      if (d.function?.name) c.name += d.function.name;
      if (d.function?.arguments) c.args += d.function.arguments;
    }
  }

  finish(): ToolCall[] {
    return this.calls.filter(Boolean).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, input: parseToolInput(c.args) }));
  }
}

// ---- Anthropic ------------------------------------------------------------------------------

/** Anthropic accepts ids of letters, digits, `_` and `-`; the same id maps the same way everywhere. */
export function anthropicToolId(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe || 'call';
}

function anthropicBlocks(parts: readonly MessagePart[], role: 'user' | 'assistant'): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  // A user turn's tool results must come before anything else in it.
  for (const p of parts) {
    if (p.type === 'tool_result') blocks.push({ type: 'tool_result', tool_use_id: anthropicToolId(p.callId), content: p.content, ...(p.isError ? { is_error: true } : {}) });
  }
  for (const p of parts) {
    if (p.type === 'text') {
      if (p.text) blocks.push({ type: 'text', text: p.text });
    } else if (p.type === 'tool_call') {
      if (role === 'assistant') blocks.push({ type: 'tool_use', id: anthropicToolId(p.id), name: p.name, input: (p.input ?? {}) });
    } else if (p.type === 'data') {
      if (!ANTHROPIC_IMAGE_TYPES.has(p.mimeType)) throw unsupportedData(p.mimeType);
      blocks.push({ type: 'image', source: { type: 'base64', media_type: p.mimeType as 'image/png', data: base64(p.data) } });
    }
  }
  return blocks;
}

/**
 * System messages become the `system` field; consecutive turns of one role are merged. With
 * `systemBlocks`, each system message is its own block (so a cache breakpoint can end after the
 * instructions and another after the context).
 */
export function toAnthropicMessages(messages: readonly ChatMessage[], opts?: { systemBlocks: false }): { system?: string; messages: MessageParam[] };
export function toAnthropicMessages(messages: readonly ChatMessage[], opts: { systemBlocks: boolean }): { system?: string | TextBlockParam[]; messages: MessageParam[] };
export function toAnthropicMessages(messages: readonly ChatMessage[], opts?: { systemBlocks: boolean }): { system?: string | TextBlockParam[]; messages: MessageParam[] } {
  const system: string[] = [];
  const out: Array<{ role: 'user' | 'assistant'; content: string | ContentBlockParam[] }> = [];
  for (const m of messages) {
    if (m.role === 'system') {
      system.push(m.content);
      continue;
    }
    const content: string | ContentBlockParam[] = m.parts ? anthropicBlocks(m.parts, m.role) : m.content;
    const last = out[out.length - 1];
    if (last && last.role === m.role) {
      if (typeof last.content === 'string' && typeof content === 'string') last.content += `\n\n${content}`;
      else {
        const asBlocks = (c: string | ContentBlockParam[]): ContentBlockParam[] => (typeof c === 'string' ? (c ? [{ type: 'text', text: c }] : []) : c);
        const merged = [...asBlocks(last.content), ...asBlocks(content)];
        // Tool results first in a user turn, also after a merge.
        last.content = m.role === 'user' ? [...merged.filter((b) => b.type === 'tool_result'), ...merged.filter((b) => b.type !== 'tool_result')] : merged;
      }
    } else {
      out.push({ role: m.role, content });
    }
  }
  if (system.length === 0) return { messages: out };
  if (opts?.systemBlocks) return { system: system.filter(Boolean).map((text) => ({ type: 'text' as const, text })), messages: out };
  return { system: system.join('\n\n'), messages: out };
}

export function toAnthropicTools(tools: readonly ToolDefinition[], mode: ToolMode | undefined): { tools: AnthropicTool[]; tool_choice?: AnthropicToolChoice } {
  const defs = tools.map((t): AnthropicTool => ({ name: t.name, description: t.description, input_schema: { type: 'object', ...t.inputSchema } }));
  return mode === 'required' ? { tools: defs, tool_choice: { type: 'any' } } : { tools: defs };
}

/** Collects a streamed `tool_use` block (start, `input_json_delta`s, stop) into a whole call. */
export class AnthropicToolCalls {
  private readonly open = new Map<number, { id: string; name: string; json: string; input?: unknown }>();
  private readonly done: ToolCall[] = [];

  start(index: number, block: { type: string; id?: string; name?: string; input?: unknown }): void {
    if (block.type === 'tool_use') this.open.set(index, { id: block.id ?? `call_${index}`, name: block.name ?? '', json: '', input: block.input });
  }

  delta(index: number, partialJson: string): void {
    const c = this.open.get(index);
    if (c) c.json += partialJson;
  }

  /** The finished call of block `index`, if it was a tool call. */
  stop(index: number): ToolCall | undefined {
    const c = this.open.get(index);
    if (!c) return undefined;
    this.open.delete(index);
    const hasStartInput = c.input !== undefined && typeof c.input === 'object' && c.input !== null && Object.keys(c.input).length > 0;
    const call: ToolCall = { id: c.id, name: c.name, input: c.json ? parseToolInput(c.json) : hasStartInput ? c.input : {} };
    this.done.push(call);
    return call;
  }

  finish(): ToolCall[] {
    for (const index of [...this.open.keys()]) this.stop(index);
    return this.done;
  }
}
