// What every stage of the request pipeline shares, built once per Orchestrator: the config of
// the moment, the ports, the resilience and cost services, and the memos that keep the hot path cheap.
import { LRUCache } from 'lru-cache';
import { sha256 } from '../hash';
import type { EventBus, MaofEvent } from '../events';
import type { Clock, Logger, SecretSource } from '../ports';
import type { ChatMessage } from '../types';
import { agentRequiresKey, budgetIsSet, ownKeyAllowed, priceIsUnknown, providerKeyAllowed, type AgentConfig, type MaofConfig } from '../config/schema';
import type { CostLedger } from '../cost/costLedger';
import type { ResponseCache } from '../cache/responseCache';
import { ContextPruner } from '../context/contextPruner';
import { tokenUpperBound } from '../context/tokenBound';
import type { Tokenizer } from '../context/tokenizer';
import type { SessionStore } from '../memory/sessionMemory';
import type { Provider } from '../providers/provider';
import type { BreakerRegistry } from '../resilience/circuitBreaker';
import type { CreditMarks } from '../resilience/creditMarks';
import type { LatencyStats } from '../resilience/latencyStats';
import type { RateLimiter } from '../resilience/rateLimiter';
import { StickyRoutes } from '../router/stickyRoutes';

/** Texts up to this size have their token counts remembered (system prompts, history turns). */
const COUNT_MEMO_MAX_CHARS = 16_000;
/** Up to this many characters in all, a request without context is bounded instead of counted. */
const SHORT_REQUEST_CHARS = 1024;
/** Tokens a provider adds per message (role, separators) and per request: the one counting rule. */
const PER_MESSAGE_TOKENS = 4;
const PER_REQUEST_TOKENS = 2;

export interface PipelineServicesInit {
  config: MaofConfig;
  secrets: SecretSource;
  clock: Clock;
  logger: Logger;
  events: EventBus;
  breakers: BreakerRegistry;
  latency: LatencyStats;
  credit: CreditMarks;
  ledger: CostLedger;
  cache: ResponseCache;
  sessions: SessionStore;
  limiter: RateLimiter;
  providerFor: (kind: AgentConfig['provider']) => Provider;
  random: () => number;
  /** A call succeeded: the breakers' outcome windows moved (saved at flush, not per request). */
  onBreakerSuccess: () => void;
}

export class PipelineServices {
  /** Replaced by Orchestrator.updateConfig; stages read it when they run. */
  config: MaofConfig;
  readonly secrets: SecretSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly breakers: BreakerRegistry;
  /** Each agent's time to first token, tokens per second and outcomes: what the deadlines learn from. */
  readonly latency: LatencyStats;
  /** Agents out of credit with their current key: skipped like an agent without a key. */
  readonly credit: CreditMarks;
  readonly ledger: CostLedger;
  readonly cache: ResponseCache;
  readonly sessions: SessionStore;
  readonly limiter: RateLimiter;
  readonly providerFor: (kind: AgentConfig['provider']) => Provider;
  readonly random: () => number;
  readonly onBreakerSuccess: () => void;
  readonly sticky = new StickyRoutes();
  /** Requests waiting for an open breaker: woken by any breaker change (a probe's answer, a reset). */
  readonly breakerWaiters = new Set<() => void>();
  private readonly keyIds = new WeakMap<AgentConfig, { apiKey: string; id: string }>();
  private readonly pruners = new Map<string, ContextPruner>();
  /** Per tokenizer: counts of texts sent again and again (the system prompt every request). */
  private readonly tokenCounts = new Map<string, LRUCache<string, number>>();
  private readonly textHashes = new LRUCache<string, string>({ max: 512, maxSize: 32_000_000, sizeCalculation: (_h, text) => text.length + 1 });
  private readonly keyRequired = new WeakMap<AgentConfig, boolean>();
  private readonly priceUnknown = new WeakMap<AgentConfig, boolean>();

  constructor(init: PipelineServicesInit) {
    this.config = init.config;
    this.secrets = init.secrets;
    this.clock = init.clock;
    this.logger = init.logger;
    this.events = init.events;
    this.breakers = init.breakers;
    this.latency = init.latency;
    this.credit = init.credit;
    this.ledger = init.ledger;
    this.cache = init.cache;
    this.sessions = init.sessions;
    this.limiter = init.limiter;
    this.providerFor = init.providerFor;
    this.random = init.random;
    this.onBreakerSuccess = init.onBreakerSuccess;
  }

  emit(event: MaofEvent): void {
    this.events.emit(event);
  }

  wakeBreakerWaiters(): void {
    if (this.breakerWaiters.size === 0) return;
    const waiters = [...this.breakerWaiters];
    this.breakerWaiters.clear();
    for (const wake of waiters) wake();
  }

  /** API key for an agent: its own secret first, then its provider's (official or loopback endpoints only). */
  async keyFor(agent: AgentConfig): Promise<string | undefined> {
    const own = ownKeyAllowed(agent) ? await this.secrets.get(agent.apiKeySecret ? `secret:${agent.apiKeySecret}` : `agent:${agent.id}`) : undefined;
    const key = own?.trim() ? own : providerKeyAllowed(agent) ? await this.secrets.get(`provider:${agent.provider}`) : undefined;
    const trimmed = key?.trim();
    return trimmed ? trimmed : undefined;
  }

  /** The rate limiter's opaque id of an agent's key; hashed again only when the agent's key changes. */
  keyIdFor(agent: AgentConfig, apiKey: string): string {
    const last = this.keyIds.get(agent);
    if (last && last.apiKey === apiKey) return last.id;
    const id = sha256(`${agent.provider}|${agent.baseUrl ?? ''}|${apiKey}`, 'hex').slice(0, 16);
    this.keyIds.set(agent, { apiKey, id });
    return id;
  }

  /** The limiter id of the key an agent last used, if it was used. */
  lastKeyIdOf(agent: AgentConfig): string | undefined {
    return this.keyIds.get(agent)?.id;
  }

  /** The pruner hands back the same string for an unchanged item, so the memo lookup is cheap. */
  hashText(text: string): string {
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
  messageTokens(tokenizer: Tokenizer, messages: readonly ChatMessage[], room = 0): number {
    let chars = 0;
    for (const m of messages) chars += m.content.length;
    if (chars <= SHORT_REQUEST_CHARS && room > 0) {
      let bound = PER_REQUEST_TOKENS;
      for (const m of messages) bound += tokenUpperBound(tokenizer, m.content) + PER_MESSAGE_TOKENS;
      if (bound <= room) return bound;
    }
    let n = PER_REQUEST_TOKENS;
    for (const m of messages) n += this.turnTokens(tokenizer, m);
    return n;
  }

  /** One message's tokens as `messageTokens` counts them (its text and the per-message overhead). */
  turnTokens(tokenizer: Tokenizer, m: ChatMessage): number {
    return this.countText(tokenizer, m.content) + PER_MESSAGE_TOKENS;
  }

  /** One text's tokens, remembered for texts sent again and again. */
  countText(tokenizer: Tokenizer, text: string): number {
    let memo = this.tokenCounts.get(tokenizer.name);
    if (!memo) {
      memo = new LRUCache<string, number>({ max: 256, maxSize: 1_000_000, sizeCalculation: (_n, t) => t.length + 1 });
      this.tokenCounts.set(tokenizer.name, memo);
    }
    let count = text.length <= COUNT_MEMO_MAX_CHARS ? memo.get(text) : undefined;
    if (count === undefined) {
      count = tokenizer.count(text);
      if (text.length <= COUNT_MEMO_MAX_CHARS) memo.set(text, count);
    }
    return count;
  }

  /** An agent of unknown price would count as $0 and slip past any budget, so it is refused while one is set. */
  refusedForPrice(agent: AgentConfig): boolean {
    if (!budgetIsSet(this.config.budget)) return false;
    return perAgent(this.priceUnknown, agent, priceIsUnknown);
  }

  /** agentRequiresKey parses the base URL; an agent object never changes, so once per agent. */
  requiresKey(agent: AgentConfig): boolean {
    return perAgent(this.keyRequired, agent, agentRequiresKey);
  }

  prunerFor(tokenizer: Tokenizer): ContextPruner {
    let pruner = this.pruners.get(tokenizer.name);
    if (!pruner) {
      pruner = new ContextPruner();
      this.pruners.set(tokenizer.name, pruner);
    }
    return pruner;
  }
}

/** A fact about an agent object, computed once: a settings change makes new agent objects. */
function perAgent(memo: WeakMap<AgentConfig, boolean>, agent: AgentConfig, compute: (agent: AgentConfig) => boolean): boolean {
  let value = memo.get(agent);
  if (value === undefined) {
    value = compute(agent);
    memo.set(agent, value);
  }
  return value;
}
