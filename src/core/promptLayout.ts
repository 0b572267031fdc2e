// Which requests ask a provider to cache their prompt, and the order that keeps a conversation's
// prefix byte-identical from turn to turn: context (the stable files first, in a fixed order),
// instructions, history, then the new turn.
import { sha256 } from './hash';
import type { AgentConfig } from './config/schema';
import type { KeptItem } from './context/contextPruner';
import type { PromptCacheRequest } from './providers/promptCache';
import type { ChatMessage } from './types';

export interface ConversationRef {
  sessionId?: string;
  /** A chain run, or another series of requests that share a prefix. */
  conversationId?: string;
  /** The request's turns: a series only when sent whole as the caller's own conversation (VS Code's Chat, vscode.lm). */
  messages?: readonly ChatMessage[];
  instructions?: 'task' | 'own';
}

/**
 * The conversation a request belongs to, or undefined for a one-shot request (a command): its
 * prompt will not be read again, so caching it would only cost the cache write. A conversation
 * sent whole is known by its first turn, the same for every request of its series.
 */
export function conversationKeyOf(req: ConversationRef): string | undefined {
  if (req.sessionId) return `session:${req.sessionId}`;
  if (req.conversationId) return `conversation:${req.conversationId}`;
  if (req.instructions !== 'own') return undefined;
  const first = req.messages?.find((m) => m.role !== 'system');
  if (!first) return undefined;
  return `messages:${sha256(`${first.role}\n${first.content}`)}`;
}

/** What the adapter is asked to cache for this agent, or undefined (one-shot, or the agent turned it off). */
export function promptCacheFor(agent: AgentConfig, conversationKey: string | undefined): PromptCacheRequest | undefined {
  if (!conversationKey || agent.promptCache === false) return undefined;
  // One key per conversation and agent, short (OpenAI caps the field) and saying nothing about the session.
  return { key: `maof-${sha256(`${agent.id}\n${conversationKey}`, 'hex').slice(0, 40)}` };
}

/** Files that stay put first (by label), then the active file, then the selection, which move with the cursor. */
const VOLATILITY: Record<KeptItem['kind'], number> = { note: 0, history: 0, openTab: 0, visibleEditor: 0, activeFile: 1, selection: 2 };

/**
 * The kept context in an order that does not change when nothing in it changed: the pruner orders
 * by priority, which moves an item when another appears; a cached prefix ends at the first byte that moved.
 */
export function stableContextOrder(kept: readonly KeptItem[]): KeptItem[] {
  return [...kept].sort((a, b) => VOLATILITY[a.kind] - VOLATILITY[b.kind] || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/**
 * A cached conversation's messages: context and instructions as two system messages (Anthropic
 * gets a breakpoint after each), then the history, then the new turn. The context is no longer
 * glued to the new turn, where it would be sent again, uncached, every turn; it comes before the
 * instructions because those change with the task (`auto` may classify each chat turn anew), and a
 * cached prefix ends at the first byte that changed.
 */
export function cacheableLayout(system: string, context: string, history: readonly ChatMessage[], prompt: string | undefined): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (context) out.push({ role: 'system', content: context });
  if (system) out.push({ role: 'system', content: system });
  out.push(...history);
  if (prompt !== undefined) out.push({ role: 'user', content: prompt });
  return out;
}
