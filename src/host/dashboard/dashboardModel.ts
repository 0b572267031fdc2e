// What the dashboard shows, kept from the core's event stream and built into one plain snapshot:
// recent requests with what was pruned, live retries with their waits, latency per agent, and
// spend / breakers / cache read from the core when a snapshot is taken. No vscode import: tested in Node.
import type { SpendSummary } from '../../core/cost/costLedger';
import type { MonthView } from '../../core/usage/usageReport';
import type { AgentLatencyReport } from '../../core/maofCore';
import type { EventOf, MaofEvent } from '../../core/events';
import type { BreakerSnapshot } from '../../core/resilience/circuitBreaker';
import type {
  DashboardBreaker,
  DashboardLatency,
  DashboardLiveEvent,
  DashboardPromptCache,
  DashboardRequest,
  DashboardRetry,
  DashboardSnapshot,
  SpendBar,
} from '../../shared/dashboardProtocol';
import { LatencyTracker, type LatencyStats } from './latencyTracker';
import { errorLabel, WAIT_VOCABULARY } from '../../shared/errorVocabulary';
import { formatUsd } from '../../shared/format';

export const RECENT_REQUESTS = 50;
export const CHART_DAYS = 30;
/** Requests started but never finished are forgotten past this many (a listener must not leak). */
const MAX_IN_FLIGHT = 500;
const MAX_LIVE_EVENTS = 100;
/** Live events a newly opened page is given. */
export const LIVE_HISTORY = 30;
const DAY_MS = 86_400_000;

export interface BreakerInput {
  agentId: string;
  provider: string;
  model: string;
  /** The live state (an open breaker past its timeout reads half-open). */
  state: BreakerSnapshot['state'];
  snapshot: BreakerSnapshot;
}

export interface SnapshotInput {
  now: number;
  summary: SpendSummary;
  breakers: BreakerInput[];
  breakerResetTimeoutMs: number;
  cacheEntries: number;
  /** A past month the user picked: its spend, read from the history, replaces the current month's. */
  pastMonth?: MonthView;
  /** Months with history, newest first, for the month picker. */
  months?: readonly string[];
  /** The core's per-agent time to first token, outcomes and deadlines (`MaofCore.latency`). */
  latency?: readonly AgentLatencyReport[];
}

interface InFlight {
  task: string;
  dropped: string[];
  truncated: string[];
  /** A usage event said the provider reported none (the cost is counted). */
  costEstimated?: boolean;
}

interface LiveRetry extends Omit<DashboardRetry, 'remainingMs'> {
  scheduledAt: number;
}

/** Why an agent was passed over without a call (agent.skipped): a missing key is skipped as CONFIG. */
const SKIP_LABEL: Record<EventOf<'agent.skipped'>['reason'], string> = {
  CIRCUIT_OPEN: errorLabel('CIRCUIT_OPEN'),
  CONTEXT_TOO_LARGE: errorLabel('CONTEXT_TOO_LARGE'),
  CONFIG: 'no key',
  PRICE_UNKNOWN: 'no known price',
};

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function bars(record: Record<string, number>): SpendBar[] {
  return Object.entries(record)
    .filter(([, usd]) => usd > 0)
    .map(([label, usd]) => ({ label, usd }))
    .sort((a, b) => b.usd - a.usd || a.label.localeCompare(b.label));
}

/** The `days` UTC days ending with `lastDay` ("2025-06-15"), oldest first, zero days included. */
export function dailyBars(byDay: Record<string, number>, lastDay: string, days = CHART_DAYS): SpendBar[] {
  const end = Date.parse(`${lastDay}T00:00:00Z`);
  if (Number.isNaN(end)) return [];
  const out: SpendBar[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const label = new Date(end - i * DAY_MS).toISOString().slice(0, 10);
    out.push({ label, usd: byDay[label] ?? 0 });
  }
  return out;
}

/** Every UTC day of a month ("2025-06"), oldest first, zero days included. */
export function monthDayBars(byDay: Record<string, number>, month: string): SpendBar[] {
  const first = Date.parse(`${month}-01T00:00:00Z`);
  if (Number.isNaN(first)) return [];
  const next = new Date(first);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const days = Math.round((next.getTime() - first) / DAY_MS);
  return dailyBars(byDay, new Date(next.getTime() - DAY_MS).toISOString().slice(0, 10), days);
}

/** The month-scoped part of a snapshot: the current month from the ledger, or a past month from the history. */
function monthPart(summary: SpendSummary, past: MonthView | undefined, months: readonly string[]): Pick<DashboardSnapshot, 'byAgent' | 'byTask' | 'bySource' | 'byDay' | 'view'> & { requests: number; cacheHits: number; savedUsd: number } {
  const picker = [...new Set([summary.month, ...months])].sort().reverse();
  const m = past && past.month !== summary.month ? past : undefined;
  const src = m ?? summary;
  return {
    byAgent: bars(src.byAgent),
    byTask: bars(src.byTask),
    bySource: bars(src.bySource),
    byDay: m ? monthDayBars(m.byDay, m.month) : dailyBars(summary.byDay, summary.day),
    view: { month: m?.month ?? summary.month, current: !m, months: picker, ...(m ? { monthUsd: m.monthUsd } : {}) },
    requests: src.requests,
    cacheHits: src.cacheHits,
    savedUsd: src.savedUsd,
  };
}

export class DashboardModel {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly retries = new Map<string, LiveRetry>();
  private recent: DashboardRequest[] = [];
  private live: DashboardLiveEvent[] = [];
  /** The last live events, kept (not drained) for a page that opens or reloads later. */
  private liveHistory: DashboardLiveEvent[] = [];
  readonly latency = new LatencyTracker();
  /** Per agent, since the window opened: input tokens, those read from the provider's prompt cache, and what that saved. */
  private readonly promptCache = new Map<string, { inputTokens: number; cachedTokens: number; savedUsd: number }>();

  constructor(private readonly maxAttempts: () => number) {}

  /** Feeds one core event; returns true when what the dashboard shows changed. */
  onEvent(event: MaofEvent): boolean {
    switch (event.type) {
      case 'request.started':
        this.inFlight.set(event.requestId, { task: event.task, dropped: [], truncated: [] });
        if (this.inFlight.size > MAX_IN_FLIGHT) {
          const oldest = this.inFlight.keys().next().value;
          if (oldest !== undefined) this.inFlight.delete(oldest);
        }
        return true;
      case 'context.pruned': {
        const r = this.inFlight.get(event.requestId);
        if (r) {
          // A fallback agent re-prunes for its own window: the last report is what was sent.
          r.dropped = [...event.dropped];
          r.truncated = [...event.truncated];
        }
        return false;
      }
      case 'attempt':
        return this.retries.delete(event.requestId);
      case 'retry.scheduled':
        this.retries.set(event.requestId, {
          requestId: event.requestId,
          agentId: event.agentId,
          nextAttempt: event.attempt + 1,
          maxAttempts: this.maxAttempts(),
          code: event.code,
          waitMs: event.waitMs,
          scheduledAt: event.at,
        });
        // A slow failure (a gateway retrying on its own) says how long it took; a quick one need not.
        this.addLive(event.at, 'retry', `${event.agentId} ${errorLabel(event.code)}${event.elapsedMs !== undefined && event.elapsedMs >= 1_000 ? ` after ${seconds(event.elapsedMs)}` : ''} — retry ${event.attempt + 1}/${this.maxAttempts()} in ${seconds(event.waitMs)}`);
        return true;
      case 'fallback':
        this.retries.delete(event.requestId);
        this.addLive(event.at, 'fallback', `${event.from} ${errorLabel(event.reason)} — falling back to ${event.to}`);
        return true;
      case 'agent.skipped':
        this.addLive(event.at, 'skipped', `${event.agentId} skipped (${SKIP_LABEL[event.reason]})`);
        return true;
      case 'waiting': {
        this.retries.set(event.requestId, {
          requestId: event.requestId,
          agentId: event.agentId ?? '—',
          nextAttempt: 0,
          maxAttempts: 0,
          code: WAIT_VOCABULARY[event.reason].code,
          waitMs: Math.max(0, event.until - event.at),
          scheduledAt: event.at,
          waitReason: event.reason,
        });
        const until = event.reason === 'budget' ? 'gives up in' : 'next try in';
        this.addLive(event.at, event.reason === 'budget' ? 'budget' : 'queued', `${event.agentId ?? 'request'} ${WAIT_VOCABULARY[event.reason].state} — ${until} ${seconds(Math.max(0, event.until - event.at))}`);
        return true;
      }
      case 'queued':
        this.addLive(event.at, 'queued', `${event.agentId} queued ${seconds(event.waitMs)} by its rate limit (${event.reason})`);
        return true;
      case 'breaker.changed':
        this.addLive(event.at, 'breaker', `${event.agentId} breaker ${event.from} → ${event.to}${event.reason ? ` (${errorLabel(event.reason)})` : ''}`);
        return true;
      case 'budget.alert':
        this.addLive(event.at, 'budget', `${event.period === 'month' ? 'Monthly' : 'Daily'} budget ${Math.round(event.fraction * 100)} % used`);
        return true;
      case 'cache.hit':
        this.addLive(event.at, 'cache', `${event.agentId} answered from cache`);
        return true;
      case 'usage': {
        const r = this.inFlight.get(event.requestId);
        if (r && event.estimated) r.costEstimated = true;
        const u = event.usage;
        const agent = this.promptCache.get(event.agentId) ?? { inputTokens: 0, cachedTokens: 0, savedUsd: 0 };
        agent.inputTokens += u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
        agent.cachedTokens += u.cacheReadTokens;
        agent.savedUsd += event.promptCacheSavedUsd ?? 0;
        this.promptCache.set(event.agentId, agent);
        return true;
      }
      case 'hedge.sent':
        this.addLive(event.at, 'hedge', `${event.agentId} silent for ${seconds(event.delayMs)} — hedged with ${event.hedgeAgentId}`);
        return true;
      case 'hedge.won':
        this.addLive(event.at, 'hedge', `${event.agentId} answered first — ${event.loserId} aborted`);
        return true;
      case 'promptCache.lost':
        this.addLive(event.at, 'cache', `${event.to} answered instead of ${event.from} (${errorLabel(event.reason)}): prompt cache of ${event.cachedTokens.toLocaleString('en-US')} tokens lost, ≈${formatUsd(event.extraCostUsd)} more`);
        return true;
      case 'request.finished': {
        const started = this.inFlight.get(event.requestId);
        this.inFlight.delete(event.requestId);
        this.retries.delete(event.requestId);
        if (event.ok && !event.cached && event.agentId) this.latency.record(event.agentId, event.durationMs);
        this.recent.unshift({
          requestId: event.requestId,
          at: event.at,
          task: started?.task ?? '—',
          agentId: event.agentId,
          ok: event.ok,
          errorCode: event.errorCode,
          costUsd: event.costUsd,
          ...(started?.costEstimated ? { costEstimated: true } : {}),
          durationMs: event.durationMs,
          attempts: event.attempts,
          cached: event.cached,
          dropped: started?.dropped ?? [],
          truncated: started?.truncated ?? [],
        });
        if (this.recent.length > RECENT_REQUESTS) this.recent.length = RECENT_REQUESTS;
        return true;
      }
      default:
        return false;
    }
  }

  /** Live events since the last call, oldest first. */
  takeLiveEvents(): DashboardLiveEvent[] {
    const out = this.live;
    this.live = [];
    return out;
  }

  /** The last live events, oldest first, whether or not they were taken already. */
  recentLiveEvents(): DashboardLiveEvent[] {
    return [...this.liveHistory];
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  snapshot(input: SnapshotInput): DashboardSnapshot {
    const { now, summary } = input;
    const retries: DashboardRetry[] = [...this.retries.values()].map(({ scheduledAt, ...r }) => ({
      ...r,
      remainingMs: Math.max(0, scheduledAt + r.waitMs - now),
    }));
    const breakers: DashboardBreaker[] = input.breakers.map((b) => {
      const row: DashboardBreaker = {
        agentId: b.agentId,
        provider: b.provider,
        model: b.model,
        state: b.state,
        consecutiveFailures: b.snapshot.consecutiveFailures,
        opens: b.snapshot.opens,
      };
      if (b.snapshot.lastFailureCode) row.lastFailureCode = b.snapshot.lastFailureCode;
      if (b.state === 'open' && b.snapshot.openedAt !== undefined) {
        row.retryInMs = Math.max(0, b.snapshot.openedAt + input.breakerResetTimeoutMs - now);
      }
      return row;
    });
    const month = monthPart(summary, input.pastMonth, input.months ?? []);
    return {
      at: now,
      spend: {
        monthUsd: summary.monthUsd,
        dayUsd: summary.dayUsd,
        reservedUsd: summary.reservedUsd,
        monthlyLimitUsd: summary.monthlyLimitUsd,
        dailyLimitUsd: summary.dailyLimitUsd,
        month: summary.month,
        day: summary.day,
        monthAlert: summary.monthAlert,
        dayAlert: summary.dayAlert,
        requests: month.requests,
      },
      view: month.view,
      byAgent: month.byAgent,
      byTask: month.byTask,
      bySource: month.bySource,
      byDay: month.byDay,
      breakers,
      latency: latencyRows(this.latency.stats(), input.latency ?? []),
      cache: { hits: month.cacheHits, savedUsd: month.savedUsd, entries: input.cacheEntries, ...this.promptCacheStats() },
      retries,
      recent: this.recent.map((r) => ({ ...r, dropped: [...r.dropped], truncated: [...r.truncated] })),
      inFlight: this.inFlight.size,
    };
  }

  private promptCacheStats(): { promptSavedUsd: number; promptByAgent: DashboardPromptCache[] } {
    let promptSavedUsd = 0;
    const promptByAgent: DashboardPromptCache[] = [];
    for (const [agentId, a] of this.promptCache) {
      promptSavedUsd += a.savedUsd;
      promptByAgent.push({ agentId, hitRate: a.inputTokens > 0 ? a.cachedTokens / a.inputTokens : 0, cachedTokens: a.cachedTokens, inputTokens: a.inputTokens, savedUsd: a.savedUsd });
    }
    promptByAgent.sort((x, y) => y.inputTokens - x.inputTokens || x.agentId.localeCompare(y.agentId));
    return { promptSavedUsd, promptByAgent };
  }

  private addLive(at: number, kind: DashboardLiveEvent['kind'], text: string): void {
    const event: DashboardLiveEvent = { at, kind, text };
    this.live.push(event);
    if (this.live.length > MAX_LIVE_EVENTS) this.live.splice(0, this.live.length - MAX_LIVE_EVENTS);
    this.liveHistory.push(event);
    if (this.liveHistory.length > LIVE_HISTORY) this.liveHistory.splice(0, this.liveHistory.length - LIVE_HISTORY);
  }
}

/**
 * One latency row per agent the core measured (an answer, a stall or a failure) or this window saw
 * answer: time to first token and the deadline in force from the core, request time from this window.
 */
function latencyRows(measured: readonly LatencyStats[], report: readonly AgentLatencyReport[]): DashboardLatency[] {
  const window = new Map(measured.map((m) => [m.agentId, m]));
  const rows: DashboardLatency[] = [];
  const seen = new Set<string>();
  for (const r of report) {
    const w = window.get(r.agentId);
    if (!w && r.samples === 0 && r.stalled === 0 && r.failed === 0) continue;
    seen.add(r.agentId);
    rows.push({
      agentId: r.agentId,
      ...(w ? { p50Ms: w.p50Ms, p95Ms: w.p95Ms } : {}),
      samples: w?.samples ?? 0,
      ...(r.ttftP50Ms !== undefined ? { ttftP50Ms: r.ttftP50Ms } : {}),
      ...(r.ttftP95Ms !== undefined ? { ttftP95Ms: r.ttftP95Ms } : {}),
      ttftSamples: r.samples,
      ...(r.firstTokenDeadlineMs !== undefined ? { firstTokenDeadlineMs: r.firstTokenDeadlineMs } : {}),
      deadlineSource: r.firstTokenDeadlineSource,
      ...(r.idleDeadlineMs !== undefined ? { idleDeadlineMs: r.idleDeadlineMs } : {}),
      stalled: r.stalled,
      failed: r.failed,
    });
  }
  // An agent that answered here but is no longer configured (settings changed) keeps its request times.
  for (const w of measured) {
    if (!seen.has(w.agentId)) rows.push({ agentId: w.agentId, p50Ms: w.p50Ms, p95Ms: w.p95Ms, samples: w.samples, ttftSamples: 0, deadlineSource: 'off', stalled: 0, failed: 0 });
  }
  return rows.sort((a, b) => a.agentId.localeCompare(b.agentId));
}
