// The chat's plain logic: per-message meta from a run result, live status lines from the core's
// events, and the bounded history that is saved in workspaceState and validated when read back.
// No vscode import: tested in Node.
import { z } from 'zod';
import type { AgentConfig } from '../../core/config/schema';
import type { MaofError } from '../../core/errors';
import type { MaofEvent } from '../../core/events';
import type { AttemptRecord, RunSuccess } from '../../core/maofCore';
import { endpointLabel } from '../../core/providers/errorMapping';
import { ACTION_IDS, errorFix, errorLabel, WAIT_VOCABULARY } from '../../shared/errorVocabulary';
import { formatDuration } from '../../shared/format';
import type { ChatErrorInfo, ChatHistoryMessage, ChatMeta, ChatWait } from '../../shared/chatProtocol';

/** Messages kept per conversation (older ones are dropped when saving). */
export const HISTORY_MAX_MESSAGES = 100;
/** Characters kept per saved message. */
export const HISTORY_MAX_CHARS = 20_000;

/** From this long on, a failed attempt's status line says how long it took. */
export const SLOW_ATTEMPT_MS = 1_000;

/** Whether an attempt record stands for a call that reached (or tried to reach) the agent. */
function isCall(a: AttemptRecord): boolean {
  if (a.outcome === 'skipped' || a.outcome === 'cached' || a.outcome === 'CIRCUIT_OPEN' || a.outcome === 'INVALID_OUTPUT') return false;
  if ((a.outcome === 'AUTH' || a.outcome === 'CONTEXT_TOO_LARGE' || a.outcome === 'CONFIG') && a.status === undefined) return false;
  return true;
}

export function attemptCounts(attempts: readonly AttemptRecord[]): { attempts: number; retries: number; fallbacks: number } {
  const perAgent = new Map<string, number>();
  const agents: string[] = [];
  let calls = 0;
  for (const a of attempts) {
    if (!agents.includes(a.agent)) agents.push(a.agent);
    if (!isCall(a)) continue;
    calls++;
    perAgent.set(a.agent, (perAgent.get(a.agent) ?? 0) + 1);
  }
  let retries = 0;
  for (const n of perAgent.values()) retries += Math.max(0, n - 1);
  return { attempts: calls, retries, fallbacks: Math.max(0, agents.length - 1) };
}

/** One line per call, with its real elapsed time: behind a gateway that retries on its own one call can take long. */
export function attemptLog(attempts: readonly AttemptRecord[]): string[] {
  return attempts.filter(isCall).map((a) => {
    const what = a.outcome === 'ok' ? 'answered' : errorLabel(a.outcome);
    return a.elapsedMs === undefined ? `${a.agent}: ${what}` : `${a.agent}: ${what} after ${formatDuration(a.elapsedMs)}`;
  });
}

export function resultMeta(result: RunSuccess): ChatMeta {
  const counts = attemptCounts(result.attempts);
  const meta: ChatMeta = {
    agentId: result.agentId,
    model: result.model,
    costUsd: result.costUsd,
    ...(result.usageEstimated ? { costEstimated: true } : {}),
    ...counts,
    cached: result.cached,
    ...(result.promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd: result.promptCacheSavedUsd, promptCachedTokens: result.usage.cacheReadTokens } : {}),
    durationMs: result.durationMs,
    task: result.task,
  };
  if (counts.attempts > 1) meta.attemptLog = attemptLog(result.attempts);
  const dropped = result.pruned?.dropped.map((d) => d.label) ?? [];
  const truncated = result.pruned?.truncated.map((t) => t.label) ?? [];
  if (dropped.length > 0 || truncated.length > 0) meta.pruned = { dropped, truncated };
  return meta;
}

/**
 * The error as the chat shows it: the sanitised message, and the fix only when the error's detail
 * calls for another than its code's (the webview reads the code's own from the vocabulary).
 */
export function errorInfo(error: MaofError, sanitize: (text: string) => string = (t) => t): ChatErrorInfo {
  const info: ChatErrorInfo = { code: error.code, message: sanitize(error.message) };
  const fix = errorFix(error.code, error.detail);
  if (fix !== errorFix(error.code)) info.fix = fix;
  return info;
}

function waitSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export interface StatusLine {
  text: string;
  /** The line contains "in N s" counting down from this wait. */
  waitMs?: number;
  /** The request waits instead of failing: the chat offers "Retry now" and "Switch agent". */
  wait?: ChatWait;
}

/**
 * The status line under a pending answer for one of its request's events, e.g.
 * "Rate-limited by OpenAI — retrying in 3 s (attempt 2/3)"; undefined when nothing is worth saying.
 */
export function statusLine(event: MaofEvent, agents: readonly AgentConfig[], maxAttempts: number): StatusLine | undefined {
  // Who answered, named as the error messages name it: a server behind a baseUrl is not "OpenAI".
  const who = (agentId: string, position: 'start' | 'mid'): string => {
    const agent = agents.find((a) => a.id === agentId);
    return agent ? endpointLabel(agent, position) : position === 'start' ? 'The provider' : 'the provider';
  };
  switch (event.type) {
    case 'attempt':
      return event.attempt > 1
        ? { text: `Retrying ${event.agentId} (attempt ${event.attempt}/${maxAttempts})…` }
        : { text: `Asking ${event.agentId}…` };
    case 'retry.scheduled': {
      const s = waitSeconds(event.waitMs);
      const next = `retrying in ${s} s (attempt ${event.attempt + 1}/${maxAttempts})`;
      const p = who(event.agentId, 'start');
      const what: Partial<Record<typeof event.code, string>> = {
        RATE_LIMITED: `Rate-limited by ${who(event.agentId, 'mid')}`,
        OVERLOADED: `${p} is overloaded`,
        TIMEOUT: `${event.agentId} timed out`,
        NETWORK: `Could not reach ${who(event.agentId, 'mid')}`,
        UPSTREAM: p.startsWith('The ') ? `Server error at ${who(event.agentId, 'mid')}` : `${p} server error`,
      };
      // Behind a gateway that retries on its own one attempt can take long: say how long it took
      // (a quick failure's milliseconds are noise).
      const took = event.elapsedMs !== undefined && event.elapsedMs >= SLOW_ATTEMPT_MS ? ` after ${formatDuration(event.elapsedMs)}` : '';
      return { text: `${what[event.code] ?? `${event.agentId} failed (${errorLabel(event.code)})`}${took} — ${next}`, waitMs: event.waitMs };
    }
    case 'fallback':
      return { text: `${event.from} failed (${errorLabel(event.reason)}) — falling back to ${event.to}` };
    case 'waiting': {
      const waitMs = Math.max(0, event.until - event.at);
      const agent = event.agentId ?? 'the route';
      const text: Record<typeof event.reason, string> = {
        'rate-limit': `${who(agent, 'start')} asked to slow down — waiting for ${agent}'s rate limit, sending in ${waitSeconds(waitMs)} s`,
        breaker: `Waiting ${WAIT_VOCABULARY.breaker.forWhat} — trying ${agent} again in ${waitSeconds(waitMs)} s`,
        budget: `Waiting ${WAIT_VOCABULARY.budget.forWhat} — giving up in ${waitSeconds(waitMs)} s`,
      };
      return { text: text[event.reason], waitMs, wait: event.agentId === undefined ? { reason: event.reason } : { reason: event.reason, agentId: event.agentId } };
    }
    case 'queued':
      return { text: `Queued by ${event.agentId}'s rate limit (${event.reason === 'rpm' ? 'requests' : 'tokens'} per minute) — sending in ${waitSeconds(event.waitMs)} s`, waitMs: event.waitMs };
    case 'agent.skipped': {
      const why: Record<typeof event.reason, string> = {
        CIRCUIT_OPEN: `Skipping ${event.agentId} (${errorLabel('CIRCUIT_OPEN')})`,
        CONFIG: `No API key for ${event.agentId} — skipping it`,
        CONTEXT_TOO_LARGE: `Too large for ${event.agentId}'s context window — skipping it`,
        PRICE_UNKNOWN: `${event.agentId} has no known price and a budget is set — skipping it (set its pricing)`,
      };
      return { text: why[event.reason] };
    }
    case 'cache.hit':
      return { text: 'Answered from the cache' };
    default:
      return undefined;
  }
}

// ---- saved history ------------------------------------------------------------------------------

export interface SavedChat {
  v: 1;
  sessionId: string;
  selectedAgent: string;
  includeContext: boolean;
  messages: ChatHistoryMessage[];
}

const metaSchema = z.object({
  agentId: z.string(),
  model: z.string(),
  costUsd: z.number().finite(),
  costEstimated: z.boolean().optional(),
  attempts: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  fallbacks: z.number().int().nonnegative(),
  cached: z.boolean(),
  promptCacheSavedUsd: z.number().finite().optional(),
  promptCachedTokens: z.number().int().nonnegative().optional(),
  durationMs: z.number().finite(),
  task: z.string().optional(),
  pruned: z.object({ dropped: z.array(z.string()), truncated: z.array(z.string()) }).optional(),
  attemptLog: z.array(z.string().max(200)).max(50).optional(),
});

const messageSchema = z.object({
  id: z.string().min(1).max(200),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  at: z.number().finite(),
  requestedAgent: z.string().optional(),
  meta: metaSchema.optional(),
  error: z.object({ code: z.string(), message: z.string(), fix: z.enum(ACTION_IDS).optional() }).optional(),
  pending: z.boolean().optional(),
  truncated: z.boolean().optional(),
});

const savedSchema = z.object({
  v: z.literal(1),
  sessionId: z.string().min(1).max(200),
  selectedAgent: z.string().min(1).max(200).default('auto'),
  includeContext: z.boolean().default(true),
  messages: z.array(z.unknown()),
});

function capText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  return { text: `${text.slice(0, max)}\n\n…`, truncated: true };
}

/** The last `maxMessages` messages with their text capped, ready to save. */
export function boundHistory(messages: readonly ChatHistoryMessage[], maxMessages = HISTORY_MAX_MESSAGES, maxChars = HISTORY_MAX_CHARS): ChatHistoryMessage[] {
  return messages.slice(-maxMessages).map((m) => {
    const capped = capText(m.content, maxChars);
    const out: ChatHistoryMessage = { ...m, content: capped.text };
    if (capped.truncated) out.truncated = true;
    return out;
  });
}

/**
 * Reads saved history back. A message that was still streaming when the window went away is
 * marked interrupted; invalid messages are left out rather than losing the whole conversation, and
 * named in `problems` (the chat's PersistedSlot logs them).
 */
export function restoreChat(raw: unknown, newSessionId: () => string, problems: string[] = []): SavedChat {
  const parsed = savedSchema.safeParse(raw);
  if (!parsed.success) {
    if (raw !== undefined) problems.push('not a saved chat; starting a new conversation');
    return { v: 1, sessionId: newSessionId(), selectedAgent: 'auto', includeContext: true, messages: [] };
  }
  const messages: ChatHistoryMessage[] = [];
  let dropped = 0;
  for (const m of parsed.data.messages) {
    const one = messageSchema.safeParse(m);
    if (!one.success) {
      dropped++;
      continue;
    }
    const msg: ChatHistoryMessage = { ...one.data };
    if (msg.pending) {
      delete msg.pending;
      if (!msg.error && !msg.meta) msg.error = { code: 'CANCELLED', message: 'Interrupted — the window was closed or reloaded before the answer finished.' };
    }
    messages.push(msg);
  }
  if (dropped > 0) problems.push(`messages: dropped ${dropped} invalid item(s)`);
  return { ...parsed.data, v: 1, messages: boundHistory(messages) };
}
