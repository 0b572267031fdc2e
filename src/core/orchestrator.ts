// The orchestration pipeline: one request → task → route → for each agent (key, breaker, context
// window, budget, cache, rate limit, retries) → answer or the next agent. Fan-out and chains are
// built from the same single-request path. Everything the user sees is also emitted as an event.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { LRUCache } from 'lru-cache';
import { systemClock } from './clock';
import { keyFingerprint, sha256 } from './hash';
import { MaofError, cancelledError, finalError, providerLabel, toMaofError, unknownPriceError, type ErrorCode } from './errors';
import { EventBus, type AttemptOutcome, type MaofEvent } from './events';
import { silentLogger, type Clock, type Logger, type SecretSource, type StateStore } from './ports';
import { addUsage, ZERO_USAGE, type ChatMessage, type MessagePart, type ToolCall, type ToolDefinition, type ToolMode, type Usage } from './types';
import { agentRequiresKey, budgetIsSet, ownKeyAllowed, priceIsUnknown, pricingFor, providerKeyAllowed, type AgentConfig, type MaofConfig } from './config/schema';
import { costOf, promptCacheSavingsUsd, worstCaseCost } from './cost/costCalculator';
import type { Pricing } from './cost/priceTable';
import { CostLedger, type Reservation } from './cost/costLedger';
import { ResponseCache, type CachedResponse } from './cache/responseCache';
import { ContextPruner, renderContext, type ContextItem, type PruneReport } from './context/contextPruner';
import { redactSecrets } from './context/secretRedactor';
import { tokenUpperBound } from './context/tokenBound';
import { tokenizerFor, type Tokenizer } from './context/tokenizer';
import { SessionStore } from './memory/sessionMemory';
import { getProvider, type Provider, type ProviderResponse } from './providers/provider';
import { BreakerRegistry, salvageBreakerSnapshots, type BreakerSnapshot } from './resilience/circuitBreaker';
import { PersistedSlot } from './persistence/persistedSlot';
import { RateLimiter } from './resilience/rateLimiter';
import { backoffDelay, exceedsRetryAfterCap, withRetry } from './resilience/retry';
import { classifierPrompt, classifyTask, parseClassifierAnswer, type Classification } from './router/taskClassifier';
import { planRoute } from './router/router';
import { lostCacheCostUsd, StickyRoutes, type StickyPlan } from './router/stickyRoutes';
import { parseStructured, repairPrompt, structuredSpecFor, type AnalysisResult } from './structuredOutput';
import { cacheableLayout, conversationKeyOf, promptCacheFor, stableContextOrder } from './promptLayout';
import type { PromptCacheRequest } from './providers/promptCache';

export const BREAKER_STATE_KEY = 'maof.breakers.v1';
/**
 * Least time between two saves of breaker failure counts (state changes are saved at once). Counts
 * are saved so that failures add up across CLI runs; a failure storm must not write the state
 * file once per failure. flush() (CLI exit, deactivate) saves what is left.
 */
export const BREAKER_SAVE_INTERVAL_MS = 1_000;

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

export interface RunRequest {
  prompt: string;
  /** A task name, or 'auto' (default) to classify the prompt. */
  task?: string;
  /** Pin one agent: retries, but no fallback to others. */
  agentId?: string;
  /** Extra system instructions for this request. */
  system?: string;
  context?: ContextItem[];
  sessionId?: string;
  /** Requests that share a prefix without a chat session (a chain run): their prompts are cached as one conversation's. */
  conversationId?: string;
  stream?: boolean;
  onDelta?: (text: string) => void;
  /** A new attempt started after deltas were delivered: the consumer must discard them. */
  onRestart?: (agentId: string) => void;
  signal?: AbortSignal;
  temperature?: number;
  maxOutputTokens?: number;
  /** Ask for the task's structured output (default: whenever the task has a schema). */
  structured?: boolean;
  requestId?: string;
  /**
   * A whole conversation (VS Code's Chat, another extension through vscode.lm) sent as it is, in
   * place of session history + `prompt`; `prompt` is then its last user turn's text (for
   * classification). No task system prompt is added: the conversation brings its own.
   */
  messages?: ChatMessage[];
  /** Tools the model may call; a call comes back in `toolCalls` and through `onToolCall`. */
  tools?: readonly ToolDefinition[];
  toolMode?: ToolMode;
  onToolCall?: (call: ToolCall) => void;
  /** Who asked, for the dashboard's spend by source ("MAOF chat", "commands", "VS Code Chat", "CLI"…). */
  source?: string;
}

export interface AttemptRecord {
  agent: string;
  outcome: AttemptOutcome;
  status?: number;
  waitMs?: number;
  /** Time at the provider, from sending to the answer or the failure; absent when nothing was sent. */
  elapsedMs?: number;
}

interface RunBase {
  requestId: string;
  task: string;
  attempts: AttemptRecord[];
  durationMs: number;
  costUsd: number;
  usage: Usage;
  classification?: Classification;
  /** What the context pruning kept, dropped and truncated for the agent that answered last. */
  pruned?: PruneReport;
  /** A provider reported no usage: `usage` and `costUsd` are counted with the tokenizer, not billed figures. */
  usageEstimated?: boolean;
  /** What the provider's prompt cache saved (cache reads less the write premium), when it did anything. */
  promptCacheSavedUsd?: number;
}

export interface RunSuccess extends RunBase {
  ok: true;
  agentId: string;
  model: string;
  text: string;
  structured?: AnalysisResult;
  /** Answered from MAOF's own response cache (no provider call): `responseCacheSavedUsd` is what the call cost. */
  cached: boolean;
  responseCacheSavedUsd?: number;
  /** The tools the model asked to call, when the request offered tools. */
  toolCalls?: ToolCall[];
}

export interface RunFailure extends RunBase {
  ok: false;
  error: MaofError;
}

export type RunResult = RunSuccess | RunFailure;

export interface FanOutResult {
  results: Array<{ agentId: string; result: RunResult }>;
  merged?: RunResult;
}

export interface ChainStep {
  /** Shown in progress reports. */
  name?: string;
  task?: string;
  agentId?: string;
  /** May contain {{input}} (the chain's input) and {{previous}} (the previous step's output). */
  prompt: string;
}

export interface ChainResult {
  ok: boolean;
  steps: Array<{ name: string; result: RunResult }>;
  text?: string;
  costUsd: number;
}

const DEFAULT_SYSTEM: Record<string, string> = {
  code: 'You are an expert software engineer. Answer with correct, idiomatic code; when asked for code only, reply with the code alone.',
  writing: 'You are a precise technical writer. Write clearly and concisely in the requested form.',
  analysis: 'You are a senior reviewer. Analyse the code or question carefully and report concrete findings.',
};

interface RunState {
  requestId: string;
  started: number;
  task: string;
  attempts: AttemptRecord[];
  usage: Usage;
  costUsd: number;
  pruned?: PruneReport;
  deltasDelivered: boolean;
  signal: AbortSignal;
  usageEstimated?: boolean;
  promptCacheSavedUsd?: number;
  source?: string;
}

interface CallOutcome {
  response: ProviderResponse;
  costUsd: number;
}

/** Texts up to this size have their token counts remembered (system prompts, history turns). */
const COUNT_MEMO_MAX_CHARS = 16_000;
/** Up to this many characters in all, a request without context is bounded instead of counted. */
const SHORT_REQUEST_CHARS = 1024;

/**
 * The signal of requests that came without one. Shared, not one AbortController per request: each
 * call links to it only while it runs and removes its listener after, so any number may be linked.
 */
const NEVER_ABORTED = new AbortController().signal;
/** Callers' signals already freed from the listener warning (once per signal is enough). */
const UNCAPPED_SIGNALS = new WeakSet<AbortSignal>();
setMaxListeners(0, NEVER_ABORTED);

export class Orchestrator {
  readonly events: EventBus;
  readonly breakers: BreakerRegistry;
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
  private readonly pruners = new Map<string, ContextPruner>();
  private readonly sticky = new StickyRoutes();
  private readonly keyIds = new WeakMap<AgentConfig, { apiKey: string; id: string }>();
  /** Per tokenizer: counts of texts sent again and again (the system prompt every request). */
  private readonly tokenCounts = new Map<string, LRUCache<string, number>>();
  private readonly textHashes = new LRUCache<string, string>({ max: 512, maxSize: 32_000_000, sizeCalculation: (_h, text) => text.length + 1 });
  private readonly keyRequired = new WeakMap<AgentConfig, boolean>();
  private readonly priceUnknown = new WeakMap<AgentConfig, boolean>();
  private readonly breakerSlot: PersistedSlot<Record<string, BreakerSnapshot>>;
  /** A success moved a breaker's outcome window since the last save (saved at flush, not per request). */
  private breakerOutcomesUnsaved = false;
  /** Requests waiting for an open breaker: woken by any breaker change (a probe's answer, a reset). */
  private readonly breakerWaiters = new Set<() => void>();

  constructor(deps: OrchestratorDeps) {
    this.config = deps.config;
    this.secrets = deps.secrets;
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.events = deps.events ?? new EventBus((err) => this.logger.error('An event listener failed', err));
    this.providerFor = deps.providerFor ?? getProvider;
    this.random = deps.random ?? Math.random;
    this.limiter = new RateLimiter(this.clock);
    this.cache = new ResponseCache(this.config.cache, this.clock);
    this.sessions = new SessionStore({ maxTurns: Math.max(2, this.config.context.historyTurns * 2) });
    this.ledger = new CostLedger({
      store: this.store,
      clock: this.clock,
      policy: this.config.budget,
      logger: this.logger,
      onAlert: (a) => this.emit({ type: 'budget.alert', at: this.clock.now(), ...a }),
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
        this.emit({ type: 'breaker.changed', at: this.clock.now(), agentId, from, to, reason });
        this.logger.info(`Circuit breaker for agent "${agentId}": ${from} → ${to}${reason ? ` (${reason})` : ''}`);
        this.breakerSlot.save(true);
        if (this.breakerWaiters.size > 0) {
          const waiters = [...this.breakerWaiters];
          this.breakerWaiters.clear();
          for (const wake of waiters) wake();
        }
      },
      () => this.breakerSlot.save(),
    );
    const saved = this.breakerSlot.load();
    if (saved) this.breakers.restore(saved);
  }

  get currentConfig(): MaofConfig {
    return this.config;
  }

  /** Applies changed settings live: policies, agents and routes. */
  updateConfig(config: MaofConfig): void {
    this.config = config;
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
    const key = agent ? this.keyIds.get(agent) : undefined;
    if (key) this.limiter.endPause(key.id);
    this.breakers.reset(agentId);
  }

  /** Waits until ledger and breaker state are on disk. */
  async flush(): Promise<void> {
    if (this.breakerOutcomesUnsaved) this.breakerSlot.save(true);
    await Promise.all([this.ledger.flush(), this.breakerSlot.flush()]);
  }

  // ---- single request -------------------------------------------------------------------------

  async run(req: RunRequest): Promise<RunResult> {
    // Callers share one signal across concurrent runs (`maof batch`, fan-out): each run in flight
    // links to it, which is no leak, so Node's "11 listeners" warning must not fire.
    if (req.signal && !UNCAPPED_SIGNALS.has(req.signal)) {
      setMaxListeners(0, req.signal);
      UNCAPPED_SIGNALS.add(req.signal);
    }
    const state: RunState = {
      requestId: req.requestId ?? randomUUID(),
      started: this.clock.now(),
      task: req.task && req.task !== 'auto' ? req.task : 'auto',
      ...(req.source !== undefined ? { source: req.source } : {}),
      attempts: [],
      usage: ZERO_USAGE,
      costUsd: 0,
      deltasDelivered: false,
      signal: req.signal ?? NEVER_ABORTED,
    };
    let classification: Classification | undefined;
    try {
      const problem = validatePrompt(req.prompt);
      if (problem) throw problem;
      if (state.task === 'auto' && !req.agentId) {
        classification = await this.classify(req.prompt, state.signal);
        state.task = classification.task;
      } else if (state.task === 'auto') {
        state.task = classifyTask(req.prompt, this.config.tasks).task;
      }
      // A pinned agent (fan-out, compare, a chat with one agent picked) is not routed: nothing to keep sticky.
      const conversationKey = req.agentId ? undefined : conversationKeyOf(req);
      const route = planRoute(this.config, state.task, req.agentId).agents;
      // A one-shot request (the hot path of commands and batches) awaits nothing here.
      const plan: StickyPlan = conversationKey ? await this.stickyPlan(conversationKey, route) : { agents: route };
      if (this.events.active) this.emit({ type: 'request.started', at: state.started, requestId: state.requestId, task: state.task, agents: plan.agents.map((a) => a.id), pattern: 'single' });
      const result = await this.runRoute(req, state, plan.agents);
      if (conversationKey && !result.cached) this.noteTurn(conversationKey, plan, result, state);
      if (req.sessionId) {
        const memory = this.sessions.get(req.sessionId);
        const at = this.clock.now();
        memory.add({ role: 'user', content: req.prompt, task: state.task, at });
        memory.add({ role: 'assistant', content: result.text, agentId: result.agentId, task: state.task, at });
      }
      const success: RunSuccess = { ...result, classification };
      this.finish(state, true, success.agentId, undefined, success.cached);
      return success;
    } catch (err) {
      const error = state.signal.aborted ? cancelledError() : finalError(toMaofError(err));
      if (error.code === 'UPSTREAM' && error.detail) this.logger.error(`Request ${state.requestId} failed: ${error.detail}`);
      else this.logger.warn(`Request ${state.requestId} failed: ${error.code} ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
      this.finish(state, false, error.agentId, error.code, false);
      return {
        ok: false,
        requestId: state.requestId,
        task: state.task,
        error,
        attempts: state.attempts,
        durationMs: this.clock.now() - state.started,
        costUsd: state.costUsd,
        usage: state.usage,
        classification,
        pruned: state.pruned,
        ...(state.usageEstimated ? { usageEstimated: true } : {}),
      };
    }
  }

  /** A conversation's turn goes first to the agent whose provider holds its prompt in cache, while its breaker lets it and its key is there. */
  private async stickyPlan(conversationKey: string, agents: AgentConfig[]): Promise<StickyPlan> {
    const plan = this.sticky.plan(conversationKey, agents, (a) => this.breakers.get(a.id).state !== 'open');
    if (plan.agents === agents) return plan;
    const warm = plan.agents[0];
    const usable = !this.requiresKey(warm) || (await this.keyFor(warm)) !== undefined;
    return usable ? plan : { agents, ...(plan.warm ? { warm: plan.warm } : {}) };
  }

  /** Remembers who answered the turn; an answer from another agent than the warm one says what the lost cache cost. */
  private noteTurn(conversationKey: string, plan: StickyPlan, result: { agentId: string; usage: Usage }, state: RunState): void {
    const answered = this.config.agents.find((a) => a.id === result.agentId);
    if (!answered) return;
    const warm = plan.warm;
    if (warm && warm.agentId !== answered.id && warm.cachedTokens > 0) {
      const warmAgent = this.config.agents.find((a) => a.id === warm.agentId);
      const failed = state.attempts.find((a) => a.agent === warm.agentId && a.outcome !== 'ok' && a.outcome !== 'cached' && a.outcome !== 'skipped')?.outcome;
      const reason: ErrorCode | 'agent-changed' = failed && failed !== 'ok' && failed !== 'cached' && failed !== 'skipped' ? failed : 'agent-changed';
      const extraCostUsd = warmAgent ? lostCacheCostUsd(warm.cachedTokens, pricingFor(warmAgent), pricingFor(answered)) : 0;
      this.emit({ type: 'promptCache.lost', at: this.clock.now(), requestId: state.requestId, from: warm.agentId, to: answered.id, reason, cachedTokens: warm.cachedTokens, extraCostUsd });
      this.logger.info(`Request ${state.requestId}: answered by "${answered.id}" instead of "${warm.agentId}", whose prompt cache held ${warm.cachedTokens} tokens of this conversation (about $${extraCostUsd.toFixed(4)} more).`);
    }
    this.sticky.remember(conversationKey, answered, result.usage);
  }

  private finish(state: RunState, ok: boolean, agentId: string | undefined, errorCode: ErrorCode | undefined, cached: boolean): void {
    if (!this.events.active) return;
    this.emit({
      type: 'request.finished',
      at: this.clock.now(),
      requestId: state.requestId,
      ok,
      agentId,
      errorCode,
      durationMs: this.clock.now() - state.started,
      costUsd: state.costUsd,
      attempts: state.attempts.filter((a) => a.outcome !== 'skipped' && a.outcome !== 'cached').length,
      cached,
    });
  }

  private async classify(prompt: string, signal: AbortSignal): Promise<Classification> {
    const local = classifyTask(prompt, this.config.tasks);
    const classifierId = this.config.classifierAgent;
    if (local.confidence >= 0.5 || !classifierId) return local;
    const agent = this.config.agents.find((a) => a.id === classifierId);
    if (!agent || this.refusedForPrice(agent)) return local;
    try {
      const apiKey = await this.keyFor(agent);
      if (!apiKey) return local;
      const response = await this.providerFor(agent.provider).complete({
        agent,
        apiKey,
        messages: [{ role: 'user', content: classifierPrompt(prompt, this.config.tasks) }],
        maxOutputTokens: 8,
        temperature: 0,
        stream: false,
        signal,
      });
      const cost = costOf(response.usage, pricingFor(agent));
      const reservation = this.ledger.reserve(cost, { agentId: agent.id });
      this.ledger.settle(reservation, { requestId: `classify-${randomUUID()}`, agentId: agent.id, model: agent.model, task: 'classify', usage: response.usage, costUsd: cost, cached: false });
      const task = parseClassifierAnswer(response.text, this.config.tasks);
      return task ? { task, confidence: 0.8, reason: `classified by ${agent.id}`, source: 'agent' } : local;
    } catch (err) {
      this.logger.debug(`Classifier agent unavailable, using heuristics: ${toMaofError(err).code}`);
      return local;
    }
  }

  /**
   * Tries the route; when it failed only because its agents' breakers are open (or a probe is in
   * flight), waits for the earliest cool-down to end or for any breaker to change, within the
   * request's maxTotalMs, and tries again instead of failing at once.
   */
  private async runRoute(req: RunRequest, state: RunState, agents: AgentConfig[]): Promise<Omit<RunSuccess, 'classification'>> {
    for (;;) {
      try {
        return await this.runRouteOnce(req, state, agents);
      } catch (err) {
        const error = toMaofError(err);
        if (state.signal.aborted || !isPaused(error)) throw err;
        const next = this.earliestBreakerRetry(agents);
        const deadline = state.started + this.config.retry.maxTotalMs;
        if (next === undefined || next.at > deadline) throw err;
        this.emit({ type: 'waiting', at: this.clock.now(), requestId: state.requestId, agentId: next.agentId, reason: 'breaker', until: next.at });
        this.logger.info(`Request ${state.requestId}: every agent of the route is paused; waiting for "${next.agentId}" to be tried again.`);
        await this.waitForBreakers(next.at, state.signal);
      }
    }
  }

  /** The agent whose breaker lets a request through first, and when (probe in flight: its time-out). */
  private earliestBreakerRetry(agents: AgentConfig[]): { agentId: string; at: number } | undefined {
    let best: { agentId: string; at: number } | undefined;
    const now = this.clock.now();
    for (const agent of agents) {
      const breaker = this.breakers.get(agent.id);
      // A closed breaker in a route that failed only on paused agents is an agent without a key.
      if (breaker.state === 'closed') continue;
      const at = now + breaker.retryInMs();
      if (!best || at < best.at) best = { agentId: agent.id, at };
    }
    return best;
  }

  private waitForBreakers(until: number, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const wake = (): void => done.abort();
    this.breakerWaiters.add(wake);
    const onAbort = (): void => done.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return this.clock
      .sleep(Math.max(1, until - this.clock.now()), done.signal)
      .catch(() => undefined)
      .finally(() => {
        this.breakerWaiters.delete(wake);
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) throw cancelledError();
      });
  }

  /** Tries each agent of the route in order; returns the first success or throws the last error. */
  private async runRouteOnce(req: RunRequest, state: RunState, agents: AgentConfig[]): Promise<Omit<RunSuccess, 'classification'>> {
    let lastError: MaofError | undefined;
    const missingKeys = new Set<string>();
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i];
      if (state.signal.aborted) throw cancelledError();
      try {
        const result = await this.tryAgent(req, state, agent, i < agents.length - 1);
        if (missingKeys.size > 0) this.logger.info(`Request ${state.requestId}: no key for ${[...missingKeys].join(', ')}; answered by "${agent.id}".`);
        return result;
      } catch (err) {
        const error = toMaofError(err).withAgent(agent.id, agent.provider);
        if (error.code === 'CANCELLED' || state.signal.aborted) throw cancelledError();
        if (error.code === 'AUTH' && error.status === undefined) missingKeys.add(providerLabel(agent.provider));
        lastError = preferInformative(lastError, error);
        const next = agents[i + 1];
        if (!next || !error.fallbackWorthy) throw next ? error : lastError;
        if (this.clock.now() >= state.started + this.config.retry.maxTotalMs) {
          this.logger.info(`Request ${state.requestId}: "${agent.id}" failed with ${error.code} and retry.maxTotalMs is spent; not trying "${next.id}".`);
          throw lastError;
        }
        this.emit({ type: 'fallback', at: this.clock.now(), requestId: state.requestId, from: agent.id, to: next.id, reason: error.code });
        this.logger.info(`Request ${state.requestId}: "${agent.id}" failed with ${error.code}; falling back to "${next.id}".`);
      }
    }
    throw lastError ?? new MaofError('CONFIG', `The route for task "${state.task}" has no agents — add one to maof.routes.`);
  }

  /** `hasNext`: a later agent of the route may take the request, so a paused key is passed over. */
  private async tryAgent(req: RunRequest, state: RunState, agent: AgentConfig, hasNext: boolean): Promise<Omit<RunSuccess, 'classification'>> {
    const apiKey = (await this.keyFor(agent)) ?? (this.requiresKey(agent) ? undefined : '');
    if (apiKey === undefined) {
      this.skip(state, agent, 'CONFIG');
      state.attempts.push({ agent: agent.id, outcome: 'AUTH' });
      throw new MaofError('AUTH', missingKeyMessage(agent), { agentId: agent.id, provider: agent.provider });
    }
    if (this.refusedForPrice(agent)) {
      this.skip(state, agent, 'PRICE_UNKNOWN');
      state.attempts.push({ agent: agent.id, outcome: 'CONFIG' });
      throw unknownPriceError(agent.id, agent.model);
    }
    const breaker = this.breakers.get(agent.id);
    if (breaker.state === 'open') {
      this.skip(state, agent, 'CIRCUIT_OPEN');
      state.attempts.push({ agent: agent.id, outcome: 'CIRCUIT_OPEN' });
      throw circuitOpenError(agent.id);
    }
    if (hasNext) {
      // The provider paused this agent's key (a 429): while another agent of the route is free, go
      // there rather than queue behind the pause; only a route whose agents are all paused waits.
      const paused = this.limiter.pausedUntil(this.keyIdFor(agent, apiKey));
      if (paused !== undefined) {
        state.attempts.push({ agent: agent.id, outcome: 'skipped' });
        throw keyPausedError(agent.id, paused - this.clock.now());
      }
    }

    const maxOutputTokens = Math.min(req.maxOutputTokens ?? agent.maxOutputTokens, agent.maxOutputTokens);
    const tokenizer = tokenizerFor(agent.provider, agent.model);
    const conversation = req.messages;
    const spec = req.structured === false || conversation ? undefined : structuredSpecFor(state.task);
    const taskConfig = this.config.tasks[state.task];
    const systemParts = conversation ? [req.system] : [taskConfig?.systemPrompt ?? DEFAULT_SYSTEM[state.task] ?? DEFAULT_SYSTEM.code, req.system, spec?.instructions];
    const system = systemParts.filter(Boolean).join('\n\n');
    const prompt = conversation ? '' : this.config.context.redactSecrets ? redactSecrets(req.prompt).text : req.prompt;
    const history = conversation
      ? conversation.map((m) => (this.config.context.redactSecrets ? redactMessage(m) : m))
      : req.sessionId ? this.sessions.get(req.sessionId).toMessages().slice(-this.config.context.historyTurns * 2) : [];
    // A turn of a conversation asks the provider to cache its prefix (and lays it out to stay stable).
    const promptCache = promptCacheFor(agent, conversationKeyOf(req));
    // Tool schemas are read by the model too: counted like a message.
    const toolText = req.tools && req.tools.length > 0 ? JSON.stringify(req.tools) : '';

    // Window check and pruning for this agent's own window (fallbacks re-prune for theirs).
    const reserved = this.config.context.reservedOutputTokens ?? maxOutputTokens;
    const counted: ChatMessage[] = conversation ? [...history] : [...history, { role: 'user', content: prompt }];
    if (system) counted.unshift({ role: 'system', content: system });
    if (toolText) counted.push({ role: 'system', content: toolText });
    const fixed = this.messageTokens(tokenizer, counted, req.context?.length ? 0 : agent.contextWindow - reserved);
    const available = agent.contextWindow - reserved - fixed;
    if (available < 0) {
      this.skip(state, agent, 'CONTEXT_TOO_LARGE');
      state.attempts.push({ agent: agent.id, outcome: 'CONTEXT_TOO_LARGE' });
      throw new MaofError('CONTEXT_TOO_LARGE', `The request is larger than agent "${agent.id}"'s context window (${agent.contextWindow.toLocaleString('en-US')} tokens) — shorten the prompt or pick an agent with a larger window.`, { agentId: agent.id });
    }
    let contextText = '';
    let contextHashes: string[] | undefined;
    if (req.context && req.context.length > 0) {
      const report = this.prunerFor(tokenizer).prune(req.context, {
        budgetTokens: Math.min(available, this.config.context.maxContextTokens),
        tokenizer,
        redact: this.config.context.redactSecrets,
        maxFileBytes: this.config.context.maxFileBytes,
        excludeFiles: this.config.context.excludeFiles,
      });
      state.pruned = report;
      this.emit({
        type: 'context.pruned',
        at: this.clock.now(),
        requestId: state.requestId,
        agentId: agent.id,
        keptTokens: report.usedTokens,
        budgetTokens: report.budgetTokens,
        dropped: report.dropped.map((d) => d.label),
        truncated: report.truncated.map((t) => t.label),
        redactions: report.redactions,
      });
      contextText = renderContext(promptCache ? stableContextOrder(report.kept) : report.kept);
      // Only the cache key uses them; hashing a large context on every request is not free.
      if (report.kept.length > 0 && this.config.cache.enabled) contextHashes = report.kept.map((k) => this.hashText(k.text));
    }
    const userContent = contextText ? `${contextText}\n\n${prompt}` : prompt;
    const messages: ChatMessage[] = promptCache
      ? cacheableLayout(system, contextText, history, conversation ? undefined : prompt)
      : conversation
        ? [...(system || contextText ? [{ role: 'system' as const, content: [system, contextText].filter(Boolean).join('\n\n') }] : []), ...history]
        : [{ role: 'system', content: system }, ...history, { role: 'user', content: userContent }];
    const temperature = req.temperature ?? agent.temperature ?? taskConfig?.temperature;

    // Never cached: answers with tools (a tool call asks the caller to act, and its result changes
    // what comes next) and turns that carry tool results or images (their key would miss them).
    const cacheable = !toolText && !messages.some((m) => m.parts);
    const cacheKey = !cacheable ? undefined : this.cache.keyFor({
      agentId: agent.id,
      provider: agent.provider,
      model: agent.model,
      baseUrl: agent.baseUrl,
      temperature,
      maxOutputTokens,
      json: spec !== undefined,
      messages,
      contextHashes,
    });

    const compute = async (): Promise<CachedResponse> => {
      const inputTokens = fixed + (state.pruned?.usedTokens ?? 0);
      let outcome = await this.callAgent(req, state, agent, apiKey, messages, inputTokens, maxOutputTokens, temperature, spec !== undefined, promptCache);
      let costUsd = outcome.costUsd;
      if (spec) {
        let parsed = parseStructured(outcome.response.text, spec);
        if (!parsed.ok) {
          this.logger.info(`Request ${state.requestId}: "${agent.id}" returned invalid structured output (${parsed.problem}); asking once for a repair.`);
          const repairMessages: ChatMessage[] = [...messages, { role: 'assistant', content: outcome.response.text }, { role: 'user', content: repairPrompt(parsed.problem, spec) }];
          outcome = await this.callAgent(req, state, agent, apiKey, repairMessages, inputTokens + tokenizer.count(outcome.response.text) + 64, maxOutputTokens, temperature, true, promptCache);
          costUsd += outcome.costUsd;
          parsed = parseStructured(outcome.response.text, spec);
          if (!parsed.ok) {
            state.attempts.push({ agent: agent.id, outcome: 'INVALID_OUTPUT' });
            throw new MaofError('INVALID_OUTPUT', `Agent "${agent.id}" did not return a usable structured answer — MAOF tried another agent or gave up; try again or pick another agent.`, { agentId: agent.id, detail: parsed.problem });
          }
        }
      }
      return { text: outcome.response.text, usage: outcome.response.usage, agentId: agent.id, model: outcome.response.model || agent.model, costUsd, finishReason: outcome.response.finishReason, ...(outcome.response.toolCalls ? { toolCalls: outcome.response.toolCalls } : {}) };
    };

    let value: CachedResponse;
    let cached = false;
    if (cacheKey) {
      const got = await this.cache.getOrCompute(cacheKey, compute);
      value = got.value;
      cached = got.hit || got.shared;
      if (cached) {
        state.attempts.push({ agent: agent.id, outcome: 'cached' });
        this.emit({ type: 'cache.hit', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, savedUsd: value.costUsd });
        this.ledger.recordCacheHit({ requestId: state.requestId, agentId: agent.id, task: state.task, savedUsd: value.costUsd, source: state.source });
        if (req.onDelta && value.text) req.onDelta(value.text);
      }
    } else {
      value = await compute();
    }

    let structured: AnalysisResult | undefined;
    if (spec) {
      const parsed = parseStructured(value.text, spec);
      if (parsed.ok) structured = parsed.value;
    }
    return {
      ok: true,
      requestId: state.requestId,
      task: state.task,
      agentId: agent.id,
      model: value.model,
      text: value.text,
      structured,
      cached,
      ...(cached ? { responseCacheSavedUsd: value.costUsd } : {}),
      ...(state.promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd: state.promptCacheSavedUsd } : {}),
      ...(value.toolCalls ? { toolCalls: value.toolCalls } : {}),
      attempts: state.attempts,
      durationMs: this.clock.now() - state.started,
      costUsd: state.costUsd,
      usage: state.usage,
      pruned: state.pruned,
      ...(state.usageEstimated ? { usageEstimated: true } : {}),
    };
  }

  /** One agent, with budget reservation, breaker, rate limit and retries. */
  private async callAgent(
    req: RunRequest,
    state: RunState,
    agent: AgentConfig,
    apiKey: string,
    messages: ChatMessage[],
    inputTokens: number,
    maxOutputTokens: number,
    temperature: number | undefined,
    json: boolean,
    promptCache?: PromptCacheRequest,
  ): Promise<CallOutcome> {
    const pricing = pricingFor(agent);
    // maxTotalMs bounds the whole request: no retry waits past it, and a call still running at it
    // (a gateway retrying on its own) is aborted then.
    const deadline = state.started + this.config.retry.maxTotalMs;
    let reservation: Reservation | undefined = this.ledger.tryReserve(worstCaseCost(inputTokens, maxOutputTokens, pricing));
    if (!reservation) {
      // A refusal or a wait is at stake: count the input exactly instead of the cheap upper bound.
      const exact = this.messageTokens(tokenizerFor(agent.provider, agent.model), messages);
      if (exact < inputTokens) inputTokens = exact;
      const pending = this.ledger.reserveOrWait(worstCaseCost(inputTokens, maxOutputTokens, pricing), {
        agentId: agent.id,
        maxOutputTokens,
        signal: state.signal,
        deadline,
        onWait: () => this.emit({ type: 'waiting', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, reason: 'budget', until: deadline }),
      });
      reservation = pending instanceof Promise ? await pending : pending;
    }
    let settled = false;
    // A cancel while a call is at the provider is billed (estimated), not released: the provider
    // has read the prompt and, when streaming, written what was shown.
    let cancelledInFlight = false;
    let streamedChars = 0;
    try {
      const breaker = this.breakers.get(agent.id);
      const provider = this.providerFor(agent.provider);
      const keyId = this.keyIdFor(agent, apiKey);
      const stream = req.stream === true && !json;
      const onDelta = stream && req.onDelta
        ? (text: string): void => {
            streamedChars += text.length;
            state.deltasDelivered = true;
            req.onDelta!(text);
          }
        : undefined;
      const tools = req.tools && req.tools.length > 0 ? req.tools : undefined;
      const onToolCall = tools && req.onToolCall
        ? (call: ToolCall): void => {
            state.deltasDelivered = true;
            req.onToolCall!(call);
          }
        : undefined;
      const response = await withRetry(
        async (attempt) => {
          // A 429 the provider wants waited out is a pause, not a failed attempt: the loop goes
          // round again after the key's shared pause, bounded by the request's deadline.
          // Set after a 429 of this request, whose wait was shown already: the next round says nothing.
          let announced = false;
          /** The 429 this request is waiting out: what the user is told if time runs out meanwhile. */
          let pausedBy: MaofError | undefined;
          for (let pauses = 1; ; pauses++) {
            const permit = breaker.tryAcquire();
            if (!permit.allowed) {
              state.attempts.push({ agent: agent.id, outcome: 'CIRCUIT_OPEN' });
              throw circuitOpenError(agent.id);
            }
            let judged = false;
            let sentAt: number | undefined;
            let pauseUntil: number | undefined;
            let pauseWaitMs = 0;
            /** The key's pause outlasts this request's deadline: nothing was sent, nothing to judge. */
            let sentNothing = false;
            try {
              const paused = this.limiter.pausedUntil(keyId);
              if (paused !== undefined) {
                sentNothing = paused > deadline;
                if (sentNothing) throw keyPausedError(agent.id, paused - this.clock.now());
                if (!announced) this.emit({ type: 'waiting', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, reason: 'rate-limit', until: paused });
              }
              announced = false;
              const limit = await this.limiter.acquire(keyId, agent.rateLimit, inputTokens + maxOutputTokens, state.signal, (waitMs, reason) =>
                this.emit({ type: 'queued', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, waitMs, reason }),
              );
              if (this.events.active) this.emit({ type: 'attempt', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, attempt });
              if (state.deltasDelivered) {
                state.deltasDelivered = false;
                req.onRestart?.(agent.id);
              }
              try {
                streamedChars = 0;
                sentAt = this.clock.now();
                let res = await provider.complete({ agent, apiKey, messages, maxOutputTokens, temperature, stream, onDelta, signal: state.signal, json, deadline, ...(tools ? { tools, toolMode: req.toolMode, onToolCall } : {}), ...(promptCache ? { promptCache } : {}) });
                if (res.usageEstimated) res = { ...res, usage: countedUsage(agent, messages, res.text) };
                limit.settle(res.usage.inputTokens + res.usage.cacheReadTokens + res.usage.cacheWriteTokens + res.usage.outputTokens);
                this.limiter.served(keyId);
                // The server answered, so it is healthy; an answer without text is still no answer.
                breaker.recordSuccess();
                this.breakerOutcomesUnsaved = true;
                judged = true;
                state.attempts.push({ agent: agent.id, outcome: unusableAnswer(res, agent) ? 'INVALID_OUTPUT' : 'ok', elapsedMs: this.clock.now() - sentAt });
                return res;
              } catch (err) {
                limit.settle(inputTokens);
                if (state.signal.aborted) cancelledInFlight = true;
                throw err;
              }
            } catch (err) {
              const error = state.signal.aborted ? cancelledError() : toMaofError(err).withAgent(agent.id, agent.provider);
              const now = this.clock.now();
              const elapsed = sentAt !== undefined ? { elapsedMs: now - sentAt } : {};
              if (!judged) {
                // Cut off by the request's own deadline says as little about the agent as a cancel.
                if (error.code === 'TIMEOUT' && now >= deadline) breaker.recordNeutral();
                else if (error.code === 'RATE_LIMITED' && (sentNothing || !exceedsRetryAfterCap(error, this.config.retry))) {
                  // A provider asking us to slow down is not an outage: the breaker does not count
                  // it, and every request on the key shares the pause.
                  breaker.recordNeutral();
                  if (!sentNothing) {
                    const pausedAt = this.clock.now();
                    pauseUntil = this.limiter.rateLimited(keyId, error.retryAfterMs ?? backoffDelay(pauses, this.config.retry, this.random), pausedAt);
                    // Measured from the same instant the pause was set, so a 1,000 ms Retry-After reads 1,000.
                    pauseWaitMs = Math.max(0, pauseUntil - pausedAt);
                  }
                } else if (error.countsAgainstBreaker) breaker.recordFailure(error.code);
                else breaker.recordNeutral();
              }
              if (pauseUntil !== undefined && pauseUntil <= deadline && !state.signal.aborted) {
                state.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, waitMs: pauseWaitMs, ...elapsed });
                // `at` is the instant the pause was set: the countdown shows the wait asked for.
                this.emit({ type: 'waiting', at: pauseUntil - pauseWaitMs, requestId: state.requestId, agentId: agent.id, reason: 'rate-limit', until: pauseUntil });
                announced = true;
                pausedBy = error;
                continue;
              }
              state.attempts.push({ agent: agent.id, outcome: error.code, status: error.status, ...elapsed });
              // Out of time while the provider kept saying "slow down": that, not the cut-off call, is the news.
              if (pausedBy && error.code === 'TIMEOUT' && now >= deadline) throw pausedBy;
              throw error;
            }
          }
        },
        {
          policy: this.config.retry,
          clock: this.clock,
          signal: state.signal,
          deadline,
          random: this.random,
          onRetry: ({ attempt, error, waitMs }) => {
            const last = state.attempts[state.attempts.length - 1];
            if (last) last.waitMs = waitMs;
            const event: MaofEvent = { type: 'retry.scheduled', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, attempt, waitMs, code: error.code };
            if (last?.elapsedMs !== undefined) event.elapsedMs = last.elapsedMs;
            this.emit(event);
          },
        },
      );
      const costUsd = costOf(response.usage, pricing);
      this.ledger.settle(reservation, { requestId: state.requestId, agentId: agent.id, model: agent.model, task: state.task, usage: response.usage, costUsd, cached: false, source: state.source });
      settled = true;
      state.usage = addUsage(state.usage, response.usage);
      state.costUsd += costUsd;
      const promptCacheSavedUsd = response.usage.cacheReadTokens + response.usage.cacheWriteTokens > 0 ? promptCacheSavingsUsd(response.usage, pricing) : undefined;
      if (promptCacheSavedUsd !== undefined) state.promptCacheSavedUsd = (state.promptCacheSavedUsd ?? 0) + promptCacheSavedUsd;
      if (response.usageEstimated) {
        state.usageEstimated = true;
        this.logger.info(`Request ${state.requestId}: "${agent.id}" reported no usage; its cost is estimated with the tokenizer.`);
      }
      if (this.events.active) this.emit({ type: 'usage', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, usage: response.usage, costUsd, ...(response.usageEstimated ? { estimated: true } : {}), ...(promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd } : {}) });
      // Billed (the provider read the prompt), but not an answer: the next agent may give one.
      const unusable = unusableAnswer(response, agent);
      if (unusable) throw unusable;
      return { response, costUsd };
    } finally {
      if (!settled && cancelledInFlight) this.billCancelled(state, agent, reservation, pricing, inputTokens, streamedChars);
      else if (!settled) this.ledger.release(reservation);
    }
  }

  /**
   * Settles a call the caller cancelled while it was at the provider, with the estimate the
   * adapters use when a provider reports no usage: the counted input, and about four characters a
   * token for what was streamed before the cancel.
   */
  private billCancelled(state: RunState, agent: AgentConfig, reservation: Reservation, pricing: Pricing, inputTokens: number, streamedChars: number): void {
    const usage: Usage = { inputTokens, outputTokens: Math.ceil(streamedChars / 4), cacheReadTokens: 0, cacheWriteTokens: 0 };
    const costUsd = costOf(usage, pricing);
    this.ledger.settle(reservation, { requestId: state.requestId, agentId: agent.id, model: agent.model, task: state.task, usage, costUsd, cached: false, source: state.source });
    state.usage = addUsage(state.usage, usage);
    state.costUsd += costUsd;
    this.emit({ type: 'usage', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, usage, costUsd });
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
        prompt: `Several assistants answered the same request. Merge them into one best answer, keeping what is correct and dropping what is wrong.\n\nRequest:\n${req.prompt}\n\n${answers}`,
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
      const result = await this.run({ prompt, task: step.task ?? 'auto', agentId: step.agentId, context: shared.context, signal: shared.signal, sessionId: shared.sessionId, source: shared.source, conversationId: chainId });
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

  /** API key for an agent: its own secret first, then its provider's (official or loopback endpoints only). */
  private async keyFor(agent: AgentConfig): Promise<string | undefined> {
    const own = ownKeyAllowed(agent) ? await this.secrets.get(agent.apiKeySecret ? `secret:${agent.apiKeySecret}` : `agent:${agent.id}`) : undefined;
    const key = own?.trim() ? own : providerKeyAllowed(agent) ? await this.secrets.get(`provider:${agent.provider}`) : undefined;
    const trimmed = key?.trim();
    return trimmed ? trimmed : undefined;
  }

  /** The rate limiter's opaque id of an agent's key; hashed again only when the agent's key changes. */
  private keyIdFor(agent: AgentConfig, apiKey: string): string {
    const last = this.keyIds.get(agent);
    if (last && last.apiKey === apiKey) return last.id;
    const id = sha256(`${agent.provider}|${agent.baseUrl ?? ''}|${apiKey}`, 'hex').slice(0, 16);
    this.keyIds.set(agent, { apiKey, id });
    return id;
  }


  /** The pruner hands back the same string for an unchanged item, so the memo lookup is cheap. */
  private hashText(text: string): string {
    let hash = this.textHashes.get(text);
    if (hash === undefined) {
      hash = sha256(text, 'hex').slice(0, 16);
      this.textHashes.set(text, hash);
    }
    return hash;
  }

  /**
   * Tokens of the messages around the context, with the per-message overhead. Short messages
   * whose bound (see tokenBound.ts) fits in `room` are bounded, not counted: the bound is all the
   * window check and the reservation need, and the tokenizer stays unloaded (`maof ask`,
   * `maof batch`, a chat question without context). The caller passes no room when the request
   * has context: the pruner needs the tokenizer anyway, and its budget must not shrink by the
   * bound's slack.
   */
  private messageTokens(tokenizer: Tokenizer, messages: ChatMessage[], room = 0): number {
    let chars = 0;
    for (const m of messages) chars += m.content.length;
    if (chars <= SHORT_REQUEST_CHARS && room > 0) {
      let bound = 2;
      for (const m of messages) bound += tokenUpperBound(tokenizer, m.content) + 4;
      if (bound <= room) return bound;
    }
    let memo = this.tokenCounts.get(tokenizer.name);
    if (!memo) {
      memo = new LRUCache<string, number>({ max: 256, maxSize: 1_000_000, sizeCalculation: (_n, text) => text.length + 1 });
      this.tokenCounts.set(tokenizer.name, memo);
    }
    let n = 2;
    for (const m of messages) {
      let count = m.content.length <= COUNT_MEMO_MAX_CHARS ? memo.get(m.content) : undefined;
      if (count === undefined) {
        count = tokenizer.count(m.content);
        if (m.content.length <= COUNT_MEMO_MAX_CHARS) memo.set(m.content, count);
      }
      n += count + 4;
    }
    return n;
  }

  /** An agent of unknown price would count as $0 and slip past any budget, so it is refused while one is set. */
  private refusedForPrice(agent: AgentConfig): boolean {
    if (!budgetIsSet(this.config.budget)) return false;
    let unknown = this.priceUnknown.get(agent);
    if (unknown === undefined) {
      unknown = priceIsUnknown(agent);
      this.priceUnknown.set(agent, unknown);
    }
    return unknown;
  }

  /** agentRequiresKey parses the base URL; an agent object never changes, so once per agent. */
  private requiresKey(agent: AgentConfig): boolean {
    let required = this.keyRequired.get(agent);
    if (required === undefined) {
      required = agentRequiresKey(agent);
      this.keyRequired.set(agent, required);
    }
    return required;
  }

  private prunerFor(tokenizer: Tokenizer): ContextPruner {
    let pruner = this.pruners.get(tokenizer.name);
    if (!pruner) {
      pruner = new ContextPruner();
      this.pruners.set(tokenizer.name, pruner);
    }
    return pruner;
  }

  private skip(state: RunState, agent: AgentConfig, reason: 'CIRCUIT_OPEN' | 'CONTEXT_TOO_LARGE' | 'CONFIG' | 'PRICE_UNKNOWN'): void {
    this.emit({ type: 'agent.skipped', at: this.clock.now(), requestId: state.requestId, agentId: agent.id, reason });
  }

  private emit(event: MaofEvent): void {
    this.events.emit(event);
  }
}

function missingKeyMessage(agent: AgentConfig): string {
  if (!ownKeyAllowed(agent)) {
    return `Agent "${agent.id}" comes from this workspace's settings and uses its own endpoint, so MAOF sends it no API key — define the agent in your user settings to use it with a key.`;
  }
  return providerKeyAllowed(agent)
    ? `No ${providerLabel(agent.provider)} API key is set for agent "${agent.id}" — run "MAOF: Set API Key".`
    : `Agent "${agent.id}" uses its own endpoint, so it needs its own key — run "MAOF: Set API Key" and pick the agent.`;
}

/** Usage counted with the agent's tokenizer, for a provider that reported none. */
function countedUsage(agent: AgentConfig, messages: readonly ChatMessage[], text: string): Usage {
  const tokenizer = tokenizerFor(agent.provider, agent.model);
  let input = 2;
  for (const m of messages) input += tokenizer.count(m.content) + 4;
  return { inputTokens: input, outputTokens: text ? tokenizer.count(text) : 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/**
 * An answer with no text is not a success, whatever its status: filtered by the provider,
 * refused by the model, or simply empty (a compatible server's `choices: []`). A refusal or a
 * filter that cut a started answer is no answer either.
 */
function unusableAnswer(response: ProviderResponse, agent: AgentConfig): MaofError | undefined {
  // /\S/ stops at the first visible character: no copy of a long answer, unlike trim().
  const reason = response.finishReason === 'filtered' ? 'filtered' : response.finishReason === 'refused' ? 'refused' : !/\S/.test(response.text) && !response.toolCalls?.length ? 'empty' : undefined;
  if (!reason) return undefined;
  const who = `Agent "${agent.id}"`;
  const message =
    reason === 'filtered'
      ? `${who}'s answer was stopped by its provider's content filter (filtered) — rephrase the request or pick another agent.`
      : reason === 'refused'
        ? `${who} refused to answer (refused) — rephrase the request or pick another agent.`
        : `${who} sent an empty answer (no text) — try again, pick another agent, or check the agent's model setting.`;
  return new MaofError('INVALID_OUTPUT', message, { agentId: agent.id, provider: agent.provider, detail: `answer ${reason} (finish reason ${response.finishReason}, ${response.text.length} chars)` });
}

function circuitOpenError(agentId: string): MaofError {
  return new MaofError('CIRCUIT_OPEN', `Agent "${agentId}" is paused after repeated failures — MAOF will try it again shortly, or run "MAOF: Reset Circuit Breakers".`, { agentId });
}


/** A request on a key the provider paused for longer than the request may still wait: try the next agent. */
function keyPausedError(agentId: string, waitMs: number): MaofError {
  return new MaofError('RATE_LIMITED', `Agent "${agentId}" is rate-limited by its provider for another ${Math.max(1, Math.ceil(waitMs / 1000))} s — MAOF tried the other agents of the route; try again shortly.`, { agentId, retryAfterMs: waitMs });
}

/** The route failed only because its agents are paused (open breakers), not because they failed now. */
function isPaused(error: MaofError): boolean {
  return error.code === 'CIRCUIT_OPEN';
}

/** A missing key says less than a real upstream failure; keep the more useful error to show. */
function preferInformative(previous: MaofError | undefined, next: MaofError): MaofError {
  if (!previous) return next;
  const weak = (e: MaofError): boolean => e.code === 'CIRCUIT_OPEN' || (e.code === 'AUTH' && e.status === undefined);
  if (weak(next) && !weak(previous)) return previous;
  return next;
}

const MAX_PROMPT_CHARS = 2_000_000;

/** A turn with secrets redacted from its text, tool calls' inputs left as the model wrote them. */
function redactMessage(m: ChatMessage): ChatMessage {
  const content = redactSecrets(m.content).text;
  if (!m.parts) return content === m.content ? m : { ...m, content };
  const parts = m.parts.map((p): MessagePart => {
    if (p.type === 'text') return { ...p, text: redactSecrets(p.text).text };
    if (p.type === 'tool_result') return { ...p, content: redactSecrets(p.content).text };
    return p;
  });
  return { ...m, content, parts };
}

function validatePrompt(prompt: unknown): MaofError | undefined {
  if (typeof prompt !== 'string' || prompt.trim() === '') return new MaofError('BAD_REQUEST', 'The prompt is empty — type what you want the agent to do.');
  if (prompt.includes('\u0000')) return new MaofError('BAD_REQUEST', 'The prompt contains binary data (NUL bytes) — paste text only.');
  if (prompt.length > MAX_PROMPT_CHARS) return new MaofError('CONTEXT_TOO_LARGE', 'The prompt is over 2 million characters — shorten it or attach the text as context instead.');
  return undefined;
}
