// The orchestrator: composes one request's stages (src/core/pipeline/: validate → classify →
// route → prepare context → cache → agent call → structured output → finish), owns the shared
// services and their config, and builds fan-out and chains from single requests.
import { randomUUID } from 'node:crypto';
import { systemClock } from './clock';
import { keyFingerprint } from './hash';
import { EventBus } from './events';
import { silentLogger, type Clock, type Logger, type SecretSource, type StateStore } from './ports';
import { lastUserText, userTurn } from './types';
import type { AgentConfig, MaofConfig } from './config/schema';
import { CostLedger } from './cost/costLedger';
import { ResponseCache } from './cache/responseCache';
import { SessionStore } from './memory/sessionMemory';
import { getProvider, type Provider } from './providers/provider';
import { BreakerRegistry, salvageBreakerSnapshots, type BreakerSnapshot } from './resilience/circuitBreaker';
import { PersistedSlot } from './persistence/persistedSlot';
import { RateLimiter } from './resilience/rateLimiter';
import { LatencyStats, salvageLatencySnapshots, type LatencySnapshot } from './resilience/latencyStats';
import { CreditMarks, salvageCreditMarks, type CreditMark } from './resilience/creditMarks';
import { firstTokenDeadline, idleDeadline, LEARN_PERCENTILE, type FirstTokenSource } from './resilience/deadlines';
import { PipelineServices } from './pipeline/services';
import { RequestContext } from './pipeline/requestContext';
import { validate } from './pipeline/validate';
import { classify } from './pipeline/classify';
import { planAgents, runRoute } from './pipeline/route';
import { finishFailure, finishSuccess } from './pipeline/finish';
import type { ChainResult, ChainStep, FanOutResult, RunRequest, RunResult, RunSuccess } from './pipeline/types';

// Callers (host, CLI, tests) import the request and result types from here, as before.
export type { AttemptRecord, ChainResult, ChainStep, FanOutResult, RunFailure, RunRequest, RunResult, RunSuccess } from './pipeline/types';

export const BREAKER_STATE_KEY = 'maof.breakers.v1';
/** Each agent's measured latency (LatencyStats), kept beside the breakers. */
export const LATENCY_STATE_KEY = 'maof.latency.v1';
/** Agents out of credit with their current key (CreditMarks). */
export const CREDIT_STATE_KEY = 'maof.outOfCredit.v1';
/** Latency moves with every answer: saved at most this often (and at flush). */
const LATENCY_SAVE_INTERVAL_MS = 5_000;
/**
 * Least time between two saves of breaker failure counts (state changes are saved at once). Counts
 * are saved so that failures add up across CLI runs; a failure storm must not write the state
 * file once per failure. flush() (CLI exit, deactivate) saves what is left.
 */
export const BREAKER_SAVE_INTERVAL_MS = 1_000;
/** Keys paused by a 429, shared with the other MAOF processes of the user: key id → when the pause ends. */
export const KEY_PAUSES_STATE_KEY = 'maof.keyPauses.v1';

export interface OrchestratorDeps {
  config: MaofConfig;
  secrets: SecretSource;
  store: StateStore;
  clock?: Clock;
  logger?: Logger;
  events?: EventBus;
  /** Injectable for tests; defaults to the SDK-backed providers. */
  providerFor?: (kind: AgentConfig['provider']) => Provider;
  random?: () => number;
}

/** One agent's measured latency and the deadlines in force, for the dashboard and `maof breakers --json`. */
export interface AgentLatencyReport {
  agentId: string;
  /** Answers measured (streamed, so their first token was seen), at most TTFT_SAMPLES kept. */
  samples: number;
  ttftP50Ms?: number;
  ttftP95Ms?: number;
  tokensPerSec?: number;
  ok: number;
  stalled: number;
  failed: number;
  /** The first-token deadline the agent's next attempt gets (unless it is the last agent a request can try). */
  firstTokenDeadlineMs?: number;
  firstTokenDeadlineSource: FirstTokenSource;
  idleDeadlineMs?: number;
  /** Skipped until its key changes or its breaker is reset: its provider said the account is out of credit. */
  outOfCredit: boolean;
}

export class Orchestrator {
  readonly events: EventBus;
  readonly breakers: BreakerRegistry;
  /** Each agent's time to first token, tokens per second and outcomes (read percentiles with ttftPercentile). */
  readonly latency: LatencyStats;
  readonly credit: CreditMarks;
  readonly ledger: CostLedger;
  readonly cache: ResponseCache;
  readonly sessions: SessionStore;
  private config: MaofConfig;
  private readonly secrets: SecretSource;
  private readonly store: StateStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly limiter: RateLimiter;
  private readonly providerFor: (kind: AgentConfig['provider']) => Provider;
  private readonly random: () => number;
  /** What the pipeline's stages share (built last: it holds the services above). */
  private readonly services: PipelineServices;
  private readonly breakerSlot: PersistedSlot<Record<string, BreakerSnapshot>>;
  private readonly latencySlot: PersistedSlot<Record<string, LatencySnapshot>>;
  private readonly creditSlot: PersistedSlot<Record<string, CreditMark>>;
  /** A success moved a breaker's outcome window since the last save (saved at flush, not per request). */
  private breakerOutcomesUnsaved = false;

  constructor(deps: OrchestratorDeps) {
    this.config = deps.config;
    this.secrets = deps.secrets;
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.events = deps.events ?? new EventBus((err) => this.logger.error('An event listener failed', err));
    this.providerFor = deps.providerFor ?? getProvider;
    this.random = deps.random ?? Math.random;
    // Only a store shared across processes (SqliteStore) carries pauses: a file of one's own has no reader.
    this.limiter = new RateLimiter(this.clock, this.store.onExternalChange ? (keyId, until) => this.sharePause(keyId, until) : undefined);
    this.cache = new ResponseCache(this.config.cache, this.clock);
    this.sessions = new SessionStore({ maxTurns: Math.max(2, this.config.context.historyTurns * 2) });
    this.ledger = new CostLedger({
      store: this.store,
      clock: this.clock,
      policy: this.config.budget,
      logger: this.logger,
      onAlert: (a) => this.events.emit({ type: 'budget.alert', at: this.clock.now(), ...a }),
    });
    this.breakerSlot = new PersistedSlot({
      store: this.store,
      key: BREAKER_STATE_KEY,
      label: 'Circuit breakers',
      salvage: salvageBreakerSnapshots,
      snapshot: () => {
        this.breakerOutcomesUnsaved = false;
        return this.breakers.snapshots();
      },
      clock: this.clock,
      intervalMs: BREAKER_SAVE_INTERVAL_MS,
      logger: this.logger,
    });
    this.breakers = new BreakerRegistry(
      this.config.breaker,
      this.clock,
      (agentId, from, to, reason) => {
        this.events.emit({ type: 'breaker.changed', at: this.clock.now(), agentId, from, to, reason });
        this.logger.info(`Circuit breaker for agent "${agentId}": ${from} → ${to}${reason ? ` (${reason})` : ''}`);
        this.breakerSlot.save(true);
        this.services.wakeBreakerWaiters();
      },
      () => this.breakerSlot.save(),
    );
    const saved = this.breakerSlot.load();
    if (saved) this.breakers.restore(saved);
    const slot = <T>(key: string, label: string, salvage: (raw: unknown, problems: string[]) => T, snapshot: () => unknown, intervalMs: number): PersistedSlot<T> =>
      new PersistedSlot({ store: this.store, key, label, salvage, snapshot, clock: this.clock, intervalMs, logger: this.logger });
    this.latencySlot = slot(LATENCY_STATE_KEY, 'Agent latency', salvageLatencySnapshots, () => this.latency.snapshots(), LATENCY_SAVE_INTERVAL_MS);
    this.latency = new LatencyStats(() => this.latencySlot.save());
    const latency = this.latencySlot.load();
    if (latency) this.latency.restore(latency);
    this.creditSlot = slot(CREDIT_STATE_KEY, 'Out-of-credit agents', salvageCreditMarks, () => this.credit.snapshots(), BREAKER_SAVE_INTERVAL_MS);
    this.credit = new CreditMarks(() => this.creditSlot.save(true));
    const marks = this.creditSlot.load();
    if (marks) this.credit.restore(marks);
    // A user's reset of a breaker is also "ask this agent again" for an agent out of credit.
    this.breakers.onReset = (agentId) => this.credit.clear(agentId);
    this.adoptPauses();
    this.store.onExternalChange?.((keys) => this.adoptExternal(keys));
    this.services = new PipelineServices({
      config: this.config,
      secrets: this.secrets,
      clock: this.clock,
      logger: this.logger,
      events: this.events,
      breakers: this.breakers,
      latency: this.latency,
      credit: this.credit,
      ledger: this.ledger,
      cache: this.cache,
      sessions: this.sessions,
      limiter: this.limiter,
      providerFor: this.providerFor,
      random: this.random,
      onBreakerSuccess: () => {
        this.breakerOutcomesUnsaved = true;
      },
    });
  }

  get currentConfig(): MaofConfig {
    return this.config;
  }

  /** Applies changed settings live: policies, agents and routes. */
  updateConfig(config: MaofConfig): void {
    this.config = config;
    this.services.config = config;
    this.breakers.setPolicy(config.breaker);
    this.ledger.setPolicy(config.budget);
    this.cache.setPolicy(config.cache);
  }

  /**
   * The user's "retry now" on a waiting request: the agent's breaker is reset and its key's 429
   * pause ended, so requests waiting for either try the agent at once. A budget wait cannot be cut.
   */
  retryNow(agentId: string): void {
    const agent = this.config.agents.find((a) => a.id === agentId);
    const keyId = agent ? this.services.lastKeyIdOf(agent) : undefined;
    if (keyId) this.limiter.endPause(keyId);
    this.breakers.reset(agentId);
  }

  /** Another process saved breakers or key pauses: take them over, and tell the views what changed state. */
  private adoptExternal(keys: string[]): void {
    if (keys.includes(KEY_PAUSES_STATE_KEY)) this.adoptPauses();
    if (!keys.includes(BREAKER_STATE_KEY)) return;
    const saved = this.breakerSlot.load();
    if (!saved) return;
    const before = new Map(Object.entries(this.breakers.snapshots()).map(([id, snap]) => [id, snap.state]));
    this.breakers.restore(saved);
    let wake = false;
    for (const [agentId, snap] of Object.entries(this.breakers.snapshots())) {
      const from = before.get(agentId) ?? 'closed';
      if (from === snap.state) continue;
      wake ||= snap.state !== 'open';
      this.events.emit({ type: 'breaker.changed', at: this.clock.now(), agentId, from, to: snap.state, reason: snap.lastFailureCode });
    }
    if (wake) this.services.wakeBreakerWaiters();
  }

  private sharePause(keyId: string, until: number): void {
    const now = this.clock.now();
    const pauses: Record<string, number> = {};
    for (const [id, end] of Object.entries(this.storedPauses())) if (end > now) pauses[id] = end;
    if ((pauses[keyId] ?? 0) >= until) return;
    pauses[keyId] = until;
    this.store.update(KEY_PAUSES_STATE_KEY, pauses).catch((err: unknown) => this.logger.warn('Could not share a key\'s 429 pause with other MAOF processes', err));
  }

  private adoptPauses(): void {
    for (const [keyId, until] of Object.entries(this.storedPauses())) this.limiter.adoptPause(keyId, until);
  }

  /** Key id (a hash, never the key) → pause end, as stored; anything else is dropped. */
  private storedPauses(): Record<string, number> {
    let raw: unknown;
    try {
      raw = this.store.get(KEY_PAUSES_STATE_KEY);
    } catch {
      return {};
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
    return Object.fromEntries(Object.entries(raw).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  }

  /** Waits until ledger and breaker state are on disk. */
  async flush(): Promise<void> {
    if (this.breakerOutcomesUnsaved) this.breakerSlot.save(true);
    this.latencySlot.save(true);
    await Promise.all([this.ledger.flush(), this.breakerSlot.flush(), this.latencySlot.flush(), this.creditSlot.flush()]);
  }

  /** Each configured agent's measured latency and the deadlines in force for it (dashboard, `maof breakers --json`). */
  latencyReport(): AgentLatencyReport[] {
    const policy = this.config.deadlines;
    return this.config.agents.map((agent) => {
      const snap = this.latency.snapshot(agent.id);
      const first = firstTokenDeadline(agent, policy, this.latency);
      const idle = idleDeadline(agent, policy);
      const p50 = this.latency.ttftPercentile(agent.id, 0.5);
      const p95 = this.latency.ttftPercentile(agent.id, LEARN_PERCENTILE);
      return {
        agentId: agent.id,
        samples: snap?.ttftMs.length ?? 0,
        ...(p50 !== undefined ? { ttftP50Ms: Math.round(p50) } : {}),
        ...(p95 !== undefined ? { ttftP95Ms: Math.round(p95) } : {}),
        ...(snap?.tokensPerSec !== undefined ? { tokensPerSec: Math.round(snap.tokensPerSec * 10) / 10 } : {}),
        ok: snap?.ok ?? 0,
        stalled: snap?.stalled ?? 0,
        failed: snap?.failed ?? 0,
        ...(first.ms !== undefined ? { firstTokenDeadlineMs: first.ms } : {}),
        firstTokenDeadlineSource: first.source,
        ...(idle !== undefined ? { idleDeadlineMs: idle } : {}),
        outOfCredit: this.credit.has(agent.id),
      };
    });
  }


  // ---- single request: the stages in order ----------------------------------------------------

  async run(req: RunRequest): Promise<RunResult> {
    const ctx = new RequestContext(this.services, req);
    try {
      validate(ctx);
      if (ctx.task === 'auto') await classify(ctx);
      // A one-shot request (commands, batches) is planned without a promise.
      const planned = planAgents(ctx);
      const routed = planned instanceof Promise ? await planned : planned;
      if (this.events.active) this.events.emit({ type: 'request.started', at: ctx.started, requestId: ctx.requestId, task: ctx.task, agents: routed.agents.map((a) => a.id), pattern: 'single' });
      // Each agent of the route: prepare context → cache → agent call → structured output.
      const result = await runRoute(ctx, routed.agents);
      return finishSuccess(ctx, routed, result);
    } catch (err) {
      return finishFailure(ctx, err);
    }
  }

  // ---- patterns -------------------------------------------------------------------------------

  /** Sends the same request to several agents at once; every result (or error) comes back. */
  async fanOut(req: Omit<RunRequest, 'agentId'>, agentIds: string[], mergeWith?: string): Promise<FanOutResult> {
    const settled = await Promise.all(
      agentIds.map(async (agentId) => ({ agentId, result: await this.run({ ...req, agentId, requestId: undefined, onDelta: undefined, onRestart: undefined, sessionId: undefined, conversationId: undefined }) })),
    );
    let merged: RunResult | undefined;
    const good = settled.filter((s): s is { agentId: string; result: RunSuccess } => s.result.ok);
    if (mergeWith && good.length > 1) {
      const answers = good.map((g, i) => `### Answer ${i + 1} (${g.agentId})\n${g.result.text}`).join('\n\n');
      merged = await this.run({
        ...req,
        agentId: mergeWith,
        structured: false,
        context: undefined,
        instructions: 'task',
        messages: [userTurn(`Several assistants answered the same request. Merge them into one best answer, keeping what is correct and dropping what is wrong.\n\nRequest:\n${lastUserText(req.messages)}\n\n${answers}`)],
      });
    }
    return { results: settled, merged };
  }

  /** Runs steps in order; each step sees the chain's input and the previous step's output. */
  async chain(steps: ChainStep[], input: string, shared: Pick<RunRequest, 'context' | 'signal' | 'sessionId' | 'source'> & { onStep?: (index: number, result: RunResult) => void } = {}): Promise<ChainResult> {
    const out: ChainResult = { ok: true, steps: [], costUsd: 0 };
    // The steps share instructions and context: one conversation for the prompt cache (a lone step is a one-shot).
    const chainId = steps.length > 1 && !shared.sessionId ? randomUUID() : undefined;
    let previous = input;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const usesPlaceholders = step.prompt.includes('{{previous}}') || step.prompt.includes('{{input}}');
      const body = step.prompt.replaceAll('{{input}}', input).replaceAll('{{previous}}', previous);
      const prompt = usesPlaceholders || i === 0 ? (i === 0 && !usesPlaceholders ? `${body}\n\n${input}` : body) : `${body}\n\nPrevious step's output:\n${previous}`;
      const result = await this.run({ messages: [userTurn(prompt)], task: step.task ?? 'auto', agentId: step.agentId, context: shared.context, signal: shared.signal, sessionId: shared.sessionId, source: shared.source, conversationId: chainId });
      out.steps.push({ name: step.name ?? `step ${i + 1}`, result });
      out.costUsd += result.costUsd;
      shared.onStep?.(i, result);
      if (!result.ok) {
        out.ok = false;
        return out;
      }
      previous = result.text;
    }
    out.text = previous;
    return out;
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * A one-way fingerprint of the key `agent`'s requests would carry (tests compare it; the key
   * itself never leaves the orchestrator), or undefined when there is none.
   */
  async keyFingerprint(agent: AgentConfig): Promise<string | undefined> {
    const key = await this.keyFor(agent);
    return key === undefined ? undefined : keyFingerprint(key);
  }


  /** API key lookup for the pipeline's stages and keyFingerprint (the key itself never leaves the core). */
  private keyFor(agent: AgentConfig): Promise<string | undefined> {
    return this.services.keyFor(agent);
  }
}
