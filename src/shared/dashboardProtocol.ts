// The dashboard webview's protocol (panel `maof.dashboard`): what the host posts to it, what it
// posts to the host, and the zod schemas the host parses each of those with before acting on it.
// The page imports this file with `import type` only, so zod stays out of its bundle; the chat has
// its own protocol (chatProtocol.ts).
import { z } from 'zod';
import { idField, msg, parseMessage, type BreakerStateName, type Empty, type MessagesOf, type ParsedMessage } from './protocolCommon';

// ---- shapes ------------------------------------------------------------------------------------

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
  /** Whole request time of this window's answered requests (none: no answer yet here). */
  p50Ms?: number;
  p95Ms?: number;
  samples: number;
  /** Time to first token of the agent's measured answers (kept with the breakers, across windows and the CLI). */
  ttftP50Ms?: number;
  ttftP95Ms?: number;
  ttftSamples: number;
  /** The first-token deadline the agent's next attempt gets, and where it comes from. */
  firstTokenDeadlineMs?: number;
  deadlineSource: 'setting' | 'learned' | 'cold-start' | 'off';
  idleDeadlineMs?: number;
  /** Attempts that missed a deadline (`STALLED`) and that failed otherwise, since the measures began. */
  stalled: number;
  failed: number;
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
    /** Billed requests of the month shown (see `view`). */
    requests: number;
  };
  /**
   * The month the spend-by panels, requests and cache hits show: the current one (the budget's), or
   * a past month picked from the history (`monthUsd` is then that month's spend). `months`: those
   * with history, newest first.
   */
  view: { month: string; current: boolean; months: string[]; monthUsd?: number };
  byAgent: SpendBar[];
  byTask: SpendBar[];
  /** Who asked: MAOF's chat, its commands, VS Code's Chat and Language Model API, the CLI. */
  bySource: SpendBar[];
  /** The last 30 days (a past month: its days), oldest first, zero days included. */
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
  kind: 'retry' | 'fallback' | 'breaker' | 'budget' | 'queued' | 'cache' | 'skipped' | 'hedge';
  text: string;
}

// ---- the type maps ------------------------------------------------------------------------------

/** Messages the host posts to the dashboard. */
export interface HostToDashboard {
  'dashboard/snapshot': DashboardSnapshot;
  'dashboard/event': { events: DashboardLiveEvent[] };
}

/** Messages the dashboard posts to the host. */
export interface DashboardToHost {
  'dashboard/ready': Empty;
  'dashboard/resetBreaker': { agentId: string };
  'dashboard/resetAll': Empty;
  'dashboard/export': Empty;
  /** Show a month of the history ("2025-06"), or the current month again. */
  'dashboard/month': { month: string };
}

export type DashboardHostMessage = MessagesOf<HostToDashboard>;
export type DashboardHostMessageOf<K extends keyof HostToDashboard> = Extract<DashboardHostMessage, { type: K }>;
export type DashboardWebviewMessage = MessagesOf<DashboardToHost>;
export type DashboardWebviewMessageOf<K extends keyof DashboardToHost> = Extract<DashboardWebviewMessage, { type: K }>;

// ---- schemas for what the dashboard sends -------------------------------------------------------

/** One schema per message type; `satisfies` ties each to its entry in the type map. */
export const dashboardMessageSchemas = {
  'dashboard/ready': msg('dashboard/ready', {}),
  'dashboard/resetBreaker': msg('dashboard/resetBreaker', { agentId: idField('agentId') }),
  'dashboard/resetAll': msg('dashboard/resetAll', {}),
  'dashboard/export': msg('dashboard/export', {}),
  'dashboard/month': msg('dashboard/month', { month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/) }),
} satisfies { [K in keyof DashboardToHost]: z.ZodType<DashboardWebviewMessageOf<K>, unknown> };

/** Parses a message from the dashboard webview; see parseMessage. A chat message is an unknown type here. */
export function parseDashboardMessage(raw: unknown): ParsedMessage<DashboardWebviewMessage> {
  return parseMessage<DashboardWebviewMessage>(dashboardMessageSchemas, raw);
}
