// The one door into the core for the editor host (and any other front end): requests, fan-out,
// chains, status, spend, breakers, conversation memory and the event stream, over Orchestrator's
// public API. A feature asks this service; it never reaches for the orchestrator's parts (ledger,
// breakers, cache, sessions), so those can change behind it. Built once, eagerly, by whoever
// starts the core: asking it never throws for want of an orchestrator.
import type { AgentConfig, MaofConfig } from './config/schema';
import type { LedgerEntry, SpendSummary } from './cost/costLedger';
import type { BreakerSnapshot } from './resilience/circuitBreaker';
import type { BreakerState, EventOf, MaofEvent, MaofEventType, Unsubscribe } from './events';
import type { AgentLatencyReport, ChainResult, ChainStep, FanOutResult, Orchestrator, RunRequest, RunResult } from './orchestrator';
import type { Turn } from './memory/sessionMemory';
import { RequestLog, type RequestRecord } from './requestLog';

// What a front end needs to speak to the core, from here rather than from the orchestrator's file.
export type { AgentLatencyReport, AttemptRecord, ChainResult, ChainStep, FanOutResult, RunFailure, RunRequest, RunResult, RunSuccess } from './orchestrator';
export type { RequestRecord } from './requestLog';

/** The event stream, read-only: a front end listens, only the core emits. */
export interface CoreEvents {
  on(listener: (event: MaofEvent) => void): Unsubscribe;
  onType<T extends MaofEventType>(type: T, listener: (event: EventOf<T>) => void): Unsubscribe;
}

export type ChainOptions = Pick<RunRequest, 'context' | 'signal' | 'sessionId' | 'source'> & { onStep?: (index: number, result: RunResult) => void };

export interface MaofCore {
  // ---- requests
  run(req: RunRequest): Promise<RunResult>;
  fanOut(req: Omit<RunRequest, 'agentId'>, agentIds: string[], mergeWith?: string): Promise<FanOutResult>;
  chain(steps: ChainStep[], input: string, options?: ChainOptions): Promise<ChainResult>;
  /** The user's "retry now" on a waiting request (breaker reset, 429 pause ended). */
  retryNow(agentId: string): void;
  /** The last requests, newest first, with the agents they tried and what each attempt came to. */
  recentRequests(): readonly RequestRecord[];
  // ---- status and spend
  readonly events: CoreEvents;
  config(): MaofConfig;
  updateConfig(config: MaofConfig): void;
  spend(): SpendSummary;
  /** Ledger entries, oldest first, at most `limit`. */
  spendEntries(limit: number): LedgerEntry[];
  cacheEntries(): number;
  // ---- breakers
  breakerState(agentId: string): BreakerState;
  breakerSnapshot(agentId: string): BreakerSnapshot;
  /** Whether a breaker is known for the agent: a configured one or one kept from earlier state. */
  hasBreaker(agentId: string): boolean;
  resetBreaker(agentId: string): void;
  resetAllBreakers(): void;
  // ---- latency and deadlines
  /** Each configured agent's time to first token (p50 / p95), tokens per second, outcomes and the deadlines in force. */
  latency(): AgentLatencyReport[];
  // ---- conversation memory
  /** Hands restored turns to a session's memory when it is empty (after a reload); false when it already had turns. */
  seedSession(sessionId: string, turns: readonly Turn[]): boolean;
  forgetSession(sessionId: string): void;
  // ---- keys and lifetime
  /** A one-way fingerprint of the key the agent's requests would carry (never the key). */
  keyFingerprint(agent: AgentConfig): Promise<string | undefined>;
  flush(): Promise<void>;
}

/** The core service over one orchestrator. */
export function createMaofCore(orchestrator: Orchestrator, log = new RequestLog()): MaofCore {
  const o = orchestrator;
  const recorded = async <T>(work: Promise<T>, record: (value: T) => void): Promise<T> => {
    const value = await work;
    record(value);
    return value;
  };
  const routeOf = (req: Pick<RunRequest, 'agentId' | 'task'>, result: RunResult): string[] => (req.agentId ? [req.agentId] : [...(o.currentConfig.routes[result.task] ?? [])]);
  return {
    run: (req) => recorded(o.run(req), (result) => log.add(req.source, routeOf(req, result), !!req.agentId, result)),
    fanOut: (req, agentIds, mergeWith) =>
      recorded(o.fanOut(req, agentIds, mergeWith), (out) => {
        for (const r of out.results) log.add(req.source, [r.agentId], true, r.result);
      }),
    chain: (steps, input, options = {}) =>
      recorded(o.chain(steps, input, options), (out) => {
        for (const [i, s] of out.steps.entries()) log.add(options.source, routeOf({ agentId: steps[i]?.agentId, task: steps[i]?.task }, s.result), !!steps[i]?.agentId, s.result);
      }),
    retryNow: (agentId) => o.retryNow(agentId),
    recentRequests: () => log.list(),
    events: { on: (l) => o.events.on(l), onType: (type, l) => o.events.onType(type, l) },
    config: () => o.currentConfig,
    updateConfig: (config) => o.updateConfig(config),
    spend: () => o.ledger.summary(),
    spendEntries: (limit) => o.ledger.recent(limit),
    cacheEntries: () => o.cache.stats().entries,
    breakerState: (agentId) => o.breakers.get(agentId).state,
    breakerSnapshot: (agentId) => o.breakers.get(agentId).snapshot(),
    hasBreaker: (agentId) => o.currentConfig.agents.some((a) => a.id === agentId) || agentId in o.breakers.snapshots(),
    resetBreaker: (agentId) => o.breakers.reset(agentId),
    resetAllBreakers: () => o.breakers.resetAll(),
    latency: () => o.latencyReport(),
    seedSession: (sessionId, turns) => {
      const memory = o.sessions.get(sessionId);
      if (memory.toMessages().length > 0) return false;
      for (const t of turns) memory.add(t);
      return true;
    },
    forgetSession: (sessionId) => void o.sessions.delete(sessionId),
    keyFingerprint: (agent) => o.keyFingerprint(agent),
    flush: () => o.flush(),
  };
}
