// What the providers' prompt caches need from a request: Anthropic's per-model minimum cacheable
// prefix, and the cheap length estimate both the adapters and the simulator judge prefixes by.
import type { ContentBlockParam, MessageParam, TextBlockParam, ToolUnion as AnthropicTool } from '@anthropic-ai/sdk/resources/messages/messages';

/**
 * Anthropic caches nothing shorter than this prefix (its prompt-caching docs, as of 2026): a
 * breakpoint below it is ignored, not an error, so an estimate that is a little off costs nothing.
 */
export function anthropicCacheMinimum(model: string): number {
  const m = model.toLowerCase();
  if (/opus-4-[5-9]|opus-4\.[5-9]|haiku-4/.test(m)) return 4096;
  if (/haiku-3|3-haiku|3-5-haiku/.test(m)) return 2048;
  return 1024;
}

/** OpenAI caches prompts of this many tokens and more, in steps of 128 tokens. */
export const OPENAI_CACHE_MINIMUM = 1024;
export const OPENAI_CACHE_STEP = 128;

/** About four characters a token: the estimate the simulator bills and the adapters place breakpoints by. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** A request that belongs to a conversation which will be read again: the prefix is worth caching. */
export interface PromptCacheRequest {
  /** Stable per conversation (OpenAI's prompt_cache_key routes it to the same cache). */
  key: string;
}

/** Anthropic takes at most this many cache_control breakpoints per request. */
export const ANTHROPIC_MAX_BREAKPOINTS = 4;

const EPHEMERAL = { type: 'ephemeral' } as const;

interface AnthropicPromptParts {
  tools?: AnthropicTool[];
  system?: string | TextBlockParam[];
  messages: MessageParam[];
}

function blockChars(b: ContentBlockParam): number {
  if (b.type === 'text') return b.text.length;
  if (b.type === 'tool_result') return typeof b.content === 'string' ? b.content.length : JSON.stringify(b.content ?? '').length;
  if (b.type === 'tool_use') return b.name.length + JSON.stringify(b.input ?? {}).length;
  if (b.type === 'image' && b.source.type === 'base64') return b.source.data.length;
  return 0;
}

function contentChars(content: string | ContentBlockParam[]): number {
  if (typeof content === 'string') return content.length;
  let n = 0;
  for (const b of content) n += blockChars(b);
  return n;
}

/** A copy of a content value with a breakpoint on its last block; undefined when that block cannot take one. */
function markContent(content: string | ContentBlockParam[]): ContentBlockParam[] | undefined {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content, cache_control: EPHEMERAL }] : undefined;
  const last = content[content.length - 1];
  if (!last || last.type === 'thinking' || last.type === 'redacted_thinking' || (last.type === 'text' && !last.text)) return undefined;
  return [...content.slice(0, -1), { ...last, cache_control: EPHEMERAL }];
}

/**
 * Marks Anthropic cache breakpoints where the prompt stops being stable: after the tools and the
 * first system block (the context, when there is one), after the last system block (the
 * instructions, which change with the task), after the settled history
 * (the turn before the new one) and after the new turn (the next request of the conversation
 * starts with all of it, and Anthropic finds that prefix by looking back from its own breakpoints).
 * A breakpoint goes only where the prefix reaches the model's minimum: below it, a mark caches
 * nothing. Returns new parts; the input is not changed.
 */
export function withAnthropicBreakpoints<T extends AnthropicPromptParts>(parts: T, model: string): T {
  const minimum = anthropicCacheMinimum(model) * 4;
  const out: T = { ...parts };
  let chars = 0;
  const tools = parts.tools ? [...parts.tools] : undefined;
  for (const t of tools ?? []) chars += JSON.stringify(t).length;
  const system = typeof parts.system === 'string' ? (parts.system ? [{ type: 'text' as const, text: parts.system }] : []) : [...(parts.system ?? [])];
  let marks = 0;
  const markSystem = (i: number): void => {
    const block = system[i];
    if (block && block.text && !block.cache_control) {
      system[i] = { ...block, cache_control: EPHEMERAL };
      marks++;
    }
  };
  // 1. Tools and instructions (the first system block), or the tools alone when there is no system.
  if (system.length > 0) {
    const first = system[0];
    if (chars + first.text.length >= minimum) markSystem(0);
  } else if (tools && tools.length > 0 && chars >= minimum) {
    const i = tools.length - 1;
    tools[i] = { ...tools[i], cache_control: EPHEMERAL };
    marks++;
  }
  for (const b of system) chars += b.text.length;
  // 2. The context: the last system block, when it is not the first.
  if (system.length > 1 && chars >= minimum) markSystem(system.length - 1);
  // 3 and 4. The settled history and the new turn.
  const messages = [...parts.messages];
  const ends: number[] = [];
  for (const m of messages) ends.push((chars += contentChars(m.content)));
  for (const i of [messages.length - 2, messages.length - 1]) {
    if (i < 0 || marks >= ANTHROPIC_MAX_BREAKPOINTS || ends[i] < minimum) continue;
    const marked = markContent(messages[i].content);
    if (marked) {
      messages[i] = { ...messages[i], content: marked } as MessageParam;
      marks++;
    }
  }
  if (tools) out.tools = tools;
  if (system.length > 0) out.system = system;
  out.messages = messages;
  return out;
}
