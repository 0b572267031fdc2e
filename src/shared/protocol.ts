// The one protocol between the webviews (chat, dashboard) and the extension host: a type map per
// direction that both sides import, and the zod schemas the host parses every webview message
// with before acting on it (the webview is untrusted input). Webviews import this file with
// `import type` only, so zod stays out of their bundles.
import { z } from 'zod';
import { MAX_CODE_CHARS, MAX_ID_CHARS, MAX_LANGUAGE_CHARS, MAX_PROMPT_CHARS } from './protocolLimits';
import { ACTION_IDS, type ActionId } from './errorVocabulary';

// ---- shared shapes -----------------------------------------------------------------------------

export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** An agent's key: set, missing, or not needed (a local server that takes none). */
export type KeyStatus = 'set' | 'missing' | 'not-needed';

export interface ChatAgentInfo {
  id: string;
  /** What the selector shows, e.g. "claude-sonnet (claude-sonnet-4-5)". */
  label: string;
  provider: string;
  model: string;
  breaker: BreakerStateName;
  key: KeyStatus;
  description?: string;
}

export interface ChatMeta {
  agentId: string;
  model: string;
  costUsd: number;
  /** The provider reported no usage: the cost is counted with the tokenizer (shown with "≈"). */
  costEstimated?: boolean;
  /** Calls sent to agents (skips and cache hits not counted). */
  attempts: number;
  /** Attempts beyond the first on the same agent. */
  retries: number;
  /** Times the request moved on to the next agent of the route. */
  fallbacks: number;
  /** Answered from MAOF's own response cache (no provider call). */
  cached: boolean;
  /** What the provider's prompt cache saved on this answer (negative: the first turn paid the cache write). */
  promptCacheSavedUsd?: number;
  /** Input tokens the provider read from its prompt cache. */
  promptCachedTokens?: number;
  durationMs: number;
  task?: string;
  /** Context items left out or shortened to fit the agent's window. */
  pruned?: { dropped: string[]; truncated: string[] };
  /** Each call with how long it took, e.g. "gw: server error after 4.1 s" (when there was more than one). */
  attemptLog?: string[];
}

export interface ChatErrorInfo {
  code: string;
  message: string;
  /** Set when the error's detail calls for another fix than its code's (errorFix); else the code's own applies. */
  fix?: ActionId;
}

export interface ChatHistoryMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  at: number;
  /** The agent the user picked for this turn ('auto' or an id). */
  requestedAgent?: string;
  meta?: ChatMeta;
  error?: ChatErrorInfo;
  /** Still streaming. */
  pending?: boolean;
  /** The text was shortened when it was saved. */
  truncated?: boolean;
}

export interface ChatState {
  sessionId: string;
  agents: ChatAgentInfo[];
  /** The whole conversation; absent when only the agents changed. */
  history?: ChatHistoryMessage[];
  selectedAgent: string;
  includeContext: boolean;
}

export type ChatStreamChunk =
  | { messageId: string; done: false; content: string }
  /** `text` is the whole final answer, authoritative over the concatenated chunks. */
  | { messageId: string; done: true; meta: ChatMeta; text?: string }
  | { messageId: string; done: true; error: ChatErrorInfo };

export interface SpendBar {
  label: string;
  usd: number;
}

export interface DashboardBreaker {
  agentId: string;
  provider: string;
  model: string;
  state: BreakerStateName;
  consecutiveFailures: number;
  opens: number;
  lastFailureCode?: string;
  /** For an open breaker: when it lets a probe through, from the snapshot's time. */
  retryInMs?: number;
}

export interface DashboardLatency {
  agentId: string;
  p50Ms: number;
  p95Ms: number;
  samples: number;
}

export interface DashboardRetry {
  requestId: string;
  agentId: string;
  /** The attempt that will be made after the wait. */
  nextAttempt: number;
  maxAttempts: number;
  code: string;
  waitMs: number;
  /** Wait left at the snapshot's time. */
  remainingMs: number;
  /** Set when the request waits instead of failing (no attempt was spent): why. */
  waitReason?: 'rate-limit' | 'breaker' | 'budget';
}

export interface DashboardRequest {
  requestId: string;
  at: number;
  task: string;
  agentId?: string;
  ok: boolean;
  errorCode?: string;
  costUsd: number;
  /** Some of the cost is estimated (a provider reported no usage). */
  costEstimated?: boolean;
  durationMs: number;
  attempts: number;
  cached: boolean;
  dropped: string[];
  truncated: string[];
}

export interface DashboardSnapshot {
  at: number;
  spend: {
    monthUsd: number;
    dayUsd: number;
    reservedUsd: number;
    monthlyLimitUsd?: number;
    dailyLimitUsd?: number;
    month: string;
    day: string;
    monthAlert?: number;
    dayAlert?: number;
    requests: number;
  };
  byAgent: SpendBar[];
  byTask: SpendBar[];
  /** Who asked: MAOF's chat, its commands, VS Code's Chat and Language Model API, the CLI. */
  bySource: SpendBar[];
  /** The last 30 days, oldest first, zero days included. */
  byDay: SpendBar[];
  breakers: DashboardBreaker[];
  latency: DashboardLatency[];
  /** MAOF's response cache (`hits`, `savedUsd`, `entries`) and, apart, the providers' prompt caches. */
  cache: { hits: number; savedUsd: number; entries: number; promptSavedUsd: number; promptByAgent: DashboardPromptCache[] };
  retries: DashboardRetry[];
  recent: DashboardRequest[];
  inFlight: number;
}

/** One agent's provider prompt cache since the window opened: the share of input tokens read from it. */
export interface DashboardPromptCache {
  agentId: string;
  /** Cache-read input tokens / all input tokens (0–1). */
  hitRate: number;
  cachedTokens: number;
  inputTokens: number;
  savedUsd: number;
}

export interface DashboardLiveEvent {
  at: number;
  kind: 'retry' | 'fallback' | 'breaker' | 'budget' | 'queued' | 'cache' | 'skipped';
  text: string;
}

// ---- the type maps ------------------------------------------------------------------------------

/** Messages the host posts to a webview. */
export interface HostToWebview {
  'chat/state': ChatState;
  /** New messages at the end of the conversation (a turn, or an error bubble). */
  'chat/append': { messages: ChatHistoryMessage[] };
  'chat/stream': ChatStreamChunk;
  /** A retry began after text was shown: the partial text is void. */
  'chat/restart': { messageId: string; agentId?: string };
  /**
   * A live line under a pending answer; with waitMs, "in N s" counts down from it. With `wait`
   * the request is waiting instead of failing, and the chat offers "Retry now" and "Switch agent".
   */
  'chat/status': { messageId: string; text: string; waitMs?: number; wait?: ChatWait };
  /** Feedback on Copy / Insert / Apply. */
  'chat/notice': { kind: 'info' | 'error'; text: string };
  'dashboard/snapshot': DashboardSnapshot;
  'dashboard/event': { events: DashboardLiveEvent[] };
}

/** Why a pending answer waits (the core's WaitReason) and for which agent. */
export interface ChatWait {
  reason: 'rate-limit' | 'breaker' | 'budget';
  agentId?: string;
}

export const WAIT_ACTIONS = ['retryNow', 'switchAgent'] as const;
export type WaitAction = (typeof WAIT_ACTIONS)[number];

/** The editor actions a chat button may ask for: the error vocabulary's (the host runs each one's command). */
export const CHAT_ACTIONS = ACTION_IDS;
export type ChatAction = ActionId;

/** A message with no payload besides its type. */
export type Empty = Record<never, never>;

/** Messages a webview posts to the host. */
export interface WebviewToHost {
  'chat/ready': Empty;
  'chat/send': { sessionId: string; prompt: string; agentId: string; includeContext: boolean };
  'chat/stop': { messageId: string };
  'chat/insert': { code: string; language?: string };
  'chat/apply': { code: string; language?: string };
  'chat/copy': { code: string };
  'chat/clear': Empty;
  'chat/setAgent': { agentId: string; includeContext?: boolean };
  /** A fix offered next to an error (only these; the host maps them to its commands). */
  'chat/action': { action: ChatAction };
  /** On a waiting answer: try the agent now, or stop and ask another agent. */
  'chat/waitAction': { messageId: string; action: WaitAction };
  'dashboard/ready': Empty;
  'dashboard/resetBreaker': { agentId: string };
  'dashboard/resetAll': Empty;
  'dashboard/export': Empty;
}

export type HostMessageType = keyof HostToWebview;
export type WebviewMessageType = keyof WebviewToHost;

type Flatten<Map, K extends keyof Map> = K extends unknown ? { type: K } & Map[K] : never;

export type HostMessage = Flatten<HostToWebview, HostMessageType>;
export type HostMessageOf<K extends HostMessageType> = Extract<HostMessage, { type: K }>;
export type WebviewMessage = Flatten<WebviewToHost, WebviewMessageType>;
export type WebviewMessageOf<K extends WebviewMessageType> = Extract<WebviewMessage, { type: K }>;

// ---- schemas for what the webview sends ---------------------------------------------------------

const count = (n: number): string => n.toLocaleString('en-US');

function cappedString(field: string, max: number, min = 0) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `${field} is missing` : `${field} must be a string (got ${describe(iss.input)})`) })
    .min(min, { error: `${field} is empty` })
    .max(max, {
      error: (iss) => `${field} is too long (${typeof iss.input === 'string' ? count(iss.input.length) : '?'} characters; at most ${count(max)})`,
    });
}

const idField = (field: string) => cappedString(field, MAX_ID_CHARS, 1);
const codeField = cappedString('code', MAX_CODE_CHARS);
const languageField = cappedString('language', MAX_LANGUAGE_CHARS).optional();
const boolField = (field: string) =>
  z.boolean({ error: (iss) => (iss.input === undefined ? `${field} is missing` : `${field} must be true or false (got ${describe(iss.input)})`) });

function msg<K extends WebviewMessageType, S extends z.ZodRawShape>(type: K, shape: S) {
  return z.object({ type: z.literal(type), ...shape });
}

/** One schema per message type; `satisfies` ties each to its entry in the type map. */
export const webviewMessageSchemas = {
  'chat/ready': msg('chat/ready', {}),
  'chat/send': msg('chat/send', {
    sessionId: idField('sessionId'),
    prompt: cappedString('prompt', MAX_PROMPT_CHARS).refine((p) => p.trim() !== '', { error: 'prompt is empty' }),
    agentId: idField('agentId'),
    includeContext: boolField('includeContext'),
  }),
  'chat/stop': msg('chat/stop', { messageId: idField('messageId') }),
  'chat/insert': msg('chat/insert', { code: codeField, language: languageField }),
  'chat/apply': msg('chat/apply', { code: codeField, language: languageField }),
  'chat/copy': msg('chat/copy', { code: codeField }),
  'chat/clear': msg('chat/clear', {}),
  'chat/setAgent': msg('chat/setAgent', { agentId: idField('agentId'), includeContext: boolField('includeContext').optional() }),
  'chat/action': msg('chat/action', {
    action: z.enum(CHAT_ACTIONS, { error: (iss) => `action must be one of ${CHAT_ACTIONS.join(', ')} (got ${describe(iss.input)})` }),
  }),
  'chat/waitAction': msg('chat/waitAction', {
    messageId: idField('messageId'),
    action: z.enum(WAIT_ACTIONS, { error: (iss) => `action must be one of ${WAIT_ACTIONS.join(', ')} (got ${describe(iss.input)})` }),
  }),
  'dashboard/ready': msg('dashboard/ready', {}),
  'dashboard/resetBreaker': msg('dashboard/resetBreaker', { agentId: idField('agentId') }),
  'dashboard/resetAll': msg('dashboard/resetAll', {}),
  'dashboard/export': msg('dashboard/export', {}),
} satisfies { [K in WebviewMessageType]: z.ZodType<WebviewMessageOf<K>, unknown> };

const MESSAGE_TYPES = Object.keys(webviewMessageSchemas) as WebviewMessageType[];

export function isWebviewMessageType(value: unknown): value is WebviewMessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as string[]).includes(value);
}

export type ParsedWebviewMessage =
  | { ok: true; message: WebviewMessage }
  /** `type` is set when the message named a known type (so the host can answer, e.g. in the chat). */
  | { ok: false; error: string; type?: WebviewMessageType };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${count(value.length)} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * Parses a message from a webview. Never throws: anything that is not exactly one of the
 * protocol's messages (wrong shape, wrong types, unknown type, oversized strings) comes back as
 * `{ok: false, error}` with a reason a person can read.
 */
export function parseWebviewMessage(raw: unknown): ParsedWebviewMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `message is not an object (got ${describe(raw)})` };
  }
  const type: unknown = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, error: `message has no "type" string (got ${describe(type)})` };
  if (!isWebviewMessageType(type)) {
    const shown = type.length > 60 ? `${type.slice(0, 60)}…` : type;
    return { ok: false, error: `unknown message type "${shown}"` };
  }
  const schema: z.ZodType<WebviewMessage, unknown> = webviewMessageSchemas[type];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const reasons = parsed.error.issues.slice(0, 3).map((issue) => {
    // A missing field reports "got undefined" through our own messages; name the field.
    const field = issue.path.map(String).join('.');
    return issue.message.startsWith(field) || field === '' ? issue.message : `${field}: ${issue.message}`;
  });
  return { ok: false, type, error: `${type}: ${reasons.join('; ')}` };
}
