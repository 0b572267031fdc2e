// Fits a conversation into a token budget by dropping its oldest turns, never leaving a tool call
// without its result or a result without its call, so what remains is a request both APIs accept.
import type { ChatMessage } from '../types';

export interface PrunedConversation {
  messages: ChatMessage[];
  /** Turns of the input left out (a bridging turn added in front is not counted). */
  droppedTurns: number;
  /** Sum of `count` over the returned messages; ≤ the budget. */
  usedTokens: number;
}

/**
 * Put in front when the kept turns would otherwise open with an assistant turn: Anthropic answers
 * 400 "first message must use the user role", and an agent loop often has no other place to cut
 * (every user turn in it holds results of the assistant turn before it).
 */
export const OMITTED_TURNS_NOTE: ChatMessage = { role: 'user', content: '(Earlier turns of this conversation were left out to fit the context window.)' };

/**
 * Drops the oldest turns until the rest fits `budgetTokens` (the sum of `count` over them).
 * System turns stay where they are; the last user turn and everything after it stay; an assistant
 * turn with tool calls and the turns holding their results are dropped together or kept together.
 * When the cut would leave an assistant turn first, a plain answer is dropped too (its question is
 * gone) and a turn with tool calls gets `OMITTED_TURNS_NOTE` in front of it. `count` is called once
 * per message (and once for the note). Undefined when even the protected turns do not fit.
 */
export function pruneConversation(messages: readonly ChatMessage[], budgetTokens: number, count: (m: ChatMessage) => number): PrunedConversation | undefined {
  const n = messages.length;
  const tokens = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += tokens[i] = count(messages[i]);
  if (total <= budgetTokens) return { messages: [...messages], droppedTurns: 0, usedTokens: total };

  // span[i]: the last turn that must go with turn i when i goes (the furthest result of its calls).
  const callTurn = new Map<string, number>();
  const span = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    span[i] = i;
    const parts = messages[i].parts;
    if (!parts) continue;
    for (const p of parts) {
      if (p.type === 'tool_call' && messages[i].role === 'assistant') callTurn.set(p.id, i);
      else if (p.type === 'tool_result') {
        const from = callTurn.get(p.callId);
        if (from !== undefined && from < i) span[from] = Math.max(span[from], i);
      }
    }
  }

  // Protected: from the last user turn (or, without one, the last non-system turn) to the end,
  // pulled back to the call turn of any result in it.
  let protectedFrom = n;
  for (let i = n - 1; i >= 0; i--) {
    if (messages[i].role === 'user') { protectedFrom = i; break; }
    if (protectedFrom === n && messages[i].role !== 'system') protectedFrom = i;
  }
  // A cut before turn k is clean when no call before k has a result at or after k.
  const clean = new Array<boolean>(n + 1).fill(false);
  let reach = -1;
  for (let k = 0; k <= n; k++) {
    clean[k] = reach < k;
    if (k < n) reach = Math.max(reach, span[k]);
  }
  while (protectedFrom > 0 && !clean[protectedFrom]) protectedFrom--;

  // Tokens of system turns before a cut (kept whatever is cut) and of every turn from the cut on.
  let systemBefore = 0;
  let dropped = 0;
  let note: number | undefined;
  let rest = total;
  for (let k = 0; k <= protectedFrom; k++) {
    // Here turns 0..k-1 that are not system are dropped.
    if (k === protectedFrom || isCleanStart(messages, clean, k)) {
      const first = firstNonSystem(messages, k);
      const needsNote = first < n && messages[first].role === 'assistant';
      const noteTokens = needsNote ? (note ??= count(OMITTED_TURNS_NOTE)) : 0;
      const used = systemBefore + rest + noteTokens;
      if (used <= budgetTokens) {
        return { messages: assemble(messages, k, needsNote ? first : -1), droppedTurns: dropped, usedTokens: used };
      }
    }
    if (k === protectedFrom) break;
    const m = messages[k];
    rest -= tokens[k];
    if (m.role === 'system') systemBefore += tokens[k];
    else dropped++;
  }
  return undefined;
}

/** A cut before turn k is worth trying: clean, and not leaving an answer whose question is gone. */
function isCleanStart(messages: readonly ChatMessage[], clean: readonly boolean[], k: number): boolean {
  if (!clean[k]) return false;
  const first = firstNonSystem(messages, k);
  if (first >= messages.length) return true;
  const m = messages[first];
  // A plain answer opening the kept turns: cut one further instead of bridging it with the note.
  return m.role !== 'assistant' || (m.parts?.some((p) => p.type === 'tool_call') ?? false);
}

function firstNonSystem(messages: readonly ChatMessage[], from: number): number {
  let i = from;
  while (i < messages.length && messages[i].role === 'system') i++;
  return i;
}

function assemble(messages: readonly ChatMessage[], cut: number, noteBefore: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (i === noteBefore) out.push({ ...OMITTED_TURNS_NOTE });
    if (i >= cut || m.role === 'system') out.push(m);
  }
  return out;
}
