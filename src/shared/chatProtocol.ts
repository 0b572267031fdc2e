// The chat webview's protocol (view `maof.chatView`): what the host posts to it, what it posts to
// the host, and the zod schemas the host parses each of those with before acting on it (the
// webview is untrusted input). The page imports this file with `import type` only, so zod stays out
// of its bundle; the dashboard has its own protocol (dashboardProtocol.ts).
import { z } from 'zod';
import { cappedString, boolField, describe, idField, msg, parseMessage, type BreakerStateName, type Empty, type KeyStatus, type MessagesOf, type ParsedMessage } from './protocolCommon';
import { MAX_CODE_CHARS, MAX_LANGUAGE_CHARS, MAX_PROMPT_CHARS } from './protocolLimits';
import { ACTION_IDS, type ActionId, type WaitReason } from './errorVocabulary';

// ---- shapes ------------------------------------------------------------------------------------

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

// ---- the type maps ------------------------------------------------------------------------------

/** Messages the host posts to the chat. */
export interface HostToChat {
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
}

/** Why a pending answer waits (the core's WaitReason) and for which agent. */
export interface ChatWait {
  reason: WaitReason;
  agentId?: string;
}

export const WAIT_ACTIONS = ['retryNow', 'switchAgent'] as const;
export type WaitAction = (typeof WAIT_ACTIONS)[number];

/** The editor actions a chat button may ask for: the error vocabulary's (the host runs each one's command). */
export const CHAT_ACTIONS = ACTION_IDS;
export type ChatAction = ActionId;

/** Messages the chat posts to the host. */
export interface ChatToHost {
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
}

export type ChatHostMessage = MessagesOf<HostToChat>;
export type ChatHostMessageOf<K extends keyof HostToChat> = Extract<ChatHostMessage, { type: K }>;
export type ChatWebviewMessage = MessagesOf<ChatToHost>;
export type ChatWebviewMessageOf<K extends keyof ChatToHost> = Extract<ChatWebviewMessage, { type: K }>;

// ---- schemas for what the chat sends ------------------------------------------------------------

const codeField = cappedString('code', MAX_CODE_CHARS);
const languageField = cappedString('language', MAX_LANGUAGE_CHARS).optional();

/** One schema per message type; `satisfies` ties each to its entry in the type map. */
export const chatMessageSchemas = {
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
} satisfies { [K in keyof ChatToHost]: z.ZodType<ChatWebviewMessageOf<K>, unknown> };

/** Parses a message from the chat webview; see parseMessage. A dashboard message is an unknown type here. */
export function parseChatMessage(raw: unknown): ParsedMessage<ChatWebviewMessage> {
  return parseMessage<ChatWebviewMessage>(chatMessageSchemas, raw);
}
