// VS Code's Language Model messages and tools → the core's message model. Pure (the parts are
// read by their shape, not by `instanceof`), so it is unit-tested in plain Node and also accepts
// parts made by another copy of the API (a caller extension's own vscode module).
import type { ChatMessage, MessagePart, ToolDefinition, ToolMode } from '../../core/types';

/** LanguageModelChatMessageRole: User = 1, Assistant = 2 (System = 3 is proposed API). */
const ROLE_ASSISTANT = 2;
const ROLE_SYSTEM = 3;
/** LanguageModelChatToolMode.Required */
const TOOL_MODE_REQUIRED = 2;

export interface LmMessageLike {
  readonly role: number;
  readonly content: ReadonlyArray<unknown>;
  readonly name?: string | undefined;
}

export interface LmToolLike {
  readonly name: string;
  readonly description: string;
  readonly inputSchema?: object | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const decoder = new TextDecoder();

/** Text of a tool result's content: text parts as they are, data parts decoded when textual, other parts as JSON. */
function resultText(content: unknown): string {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : JSON.stringify(content ?? '');
  const out: string[] = [];
  for (const c of content) {
    if (isRecord(c) && typeof c.value === 'string') out.push(c.value);
    else if (isRecord(c) && typeof c.mimeType === 'string' && c.data instanceof Uint8Array) {
      out.push(/^(text\/|application\/json)/.test(c.mimeType) ? decoder.decode(c.data) : `[${c.mimeType} data]`);
    } else if (isRecord(c) && 'value' in c) out.push(JSON.stringify(c.value));
  }
  return out.join('');
}

function partOf(p: unknown): MessagePart | undefined {
  if (typeof p === 'string') return { type: 'text', text: p };
  if (!isRecord(p)) return undefined;
  if (typeof p.callId === 'string' && typeof p.name === 'string' && 'input' in p) return { type: 'tool_call', id: p.callId, name: p.name, input: p.input };
  if (typeof p.callId === 'string' && 'content' in p) {
    const isError = p.isError === true;
    return { type: 'tool_result', callId: p.callId, content: resultText(p.content), ...(isError ? { isError } : {}) };
  }
  if (typeof p.mimeType === 'string' && p.data instanceof Uint8Array) {
    // Cache-control hints and other non-content data parts carry no content for the model.
    if (p.mimeType === 'cache_control' || p.mimeType.startsWith('application/vnd.')) return undefined;
    return { type: 'data', mimeType: p.mimeType, data: p.data };
  }
  if (typeof p.value === 'string') return { type: 'text', text: p.value };
  if ('value' in p) return { type: 'text', text: JSON.stringify(p.value) };
  return undefined;
}

function textOfParts(parts: readonly MessagePart[]): string {
  let out = '';
  for (const p of parts) {
    if (p.type === 'text') out += p.text;
    else if (p.type === 'tool_call') out += `${p.name} ${JSON.stringify(p.input ?? {})}`;
    else if (p.type === 'tool_result') out += p.content;
  }
  return out;
}

/** The conversation in the core's terms; messages with neither text nor parts are dropped. */
export function toCoreMessages(messages: readonly LmMessageLike[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const role = m.role === ROLE_ASSISTANT ? 'assistant' : m.role === ROLE_SYSTEM ? 'system' : 'user';
    const parts = m.content.map(partOf).filter((p): p is MessagePart => p !== undefined);
    if (parts.length === 0) continue;
    const content = textOfParts(parts);
    const plain = parts.every((p) => p.type === 'text');
    out.push(plain ? { role, content } : { role, content, parts });
  }
  return out;
}

export function toCoreTools(tools: readonly LmToolLike[] | undefined): ToolDefinition[] {
  return (tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: isRecord(t.inputSchema) ? (t.inputSchema) : { type: 'object', properties: {} },
  }));
}

export function toCoreToolMode(mode: number | undefined): ToolMode {
  return mode === TOOL_MODE_REQUIRED ? 'required' : 'auto';
}

/** Text of one message for VS Code's token counting. */
export function countableText(message: string | LmMessageLike): string {
  if (typeof message === 'string') return message;
  return textOfParts(message.content.map(partOf).filter((p): p is MessagePart => p !== undefined));
}
