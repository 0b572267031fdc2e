// Plain data types shared across the core.

export type Role = 'system' | 'user' | 'assistant';

/**
 * One piece of a turn. A tool call is the model asking for a tool; its result comes back in a
 * later user turn under the same call id. Data parts carry images where a provider takes them.
 */
export type MessagePart =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; callId: string; content: string; isError?: boolean }
  | { type: 'data'; mimeType: string; data: Uint8Array };

/**
 * A turn of a conversation. `content` is its text; a turn with tool calls, tool results or data
 * also has `parts` (then `content` is the text of its text parts, for counting and caching).
 */
export interface ChatMessage {
  role: Role;
  content: string;
  parts?: MessagePart[];
}

/** A tool the model may call: its JSON schema is the shape of the call's input. */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** `required`: the model must call one of the tools. */
export type ToolMode = 'auto' | 'required';

export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

/**
 * Token usage as billed. `inputTokens` are the uncached input tokens; cached reads and cache
 * writes are counted apart because they are priced apart (OpenAI's prompt_tokens includes cached
 * tokens; the adapter subtracts them).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** A user turn of plain text: what MAOF's own surfaces (commands, chat, inline, CLI) send. */
export function userTurn(text: string): ChatMessage {
  return { role: 'user', content: text };
}

/** What `auto` classifies, validation checks and session memory keeps: the last user turn with text. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  // /\S/ stops at the first visible character: no copy of a long prompt, unlike trim().
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user' && /\S/.test(messages[i].content)) return messages[i].content;
  return '';
}
