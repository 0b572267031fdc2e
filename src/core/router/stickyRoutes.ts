// Cache-aware routing: within a conversation, the agent that answered the previous turn goes first
// while it is healthy, because its provider holds the conversation's prompt in cache; an answer
// from another agent pays for the whole prompt again, and says so.
import { LRUCache } from 'lru-cache';
import type { AgentConfig } from '../config/schema';
import type { Pricing } from '../cost/priceTable';
import type { Usage } from '../types';
import { OPENAI_CACHE_MINIMUM } from '../providers/promptCache';

interface Served {
  agentId: string;
  /** Prompt tokens the provider has cached for the conversation after that turn (read + written). */
  cachedTokens: number;
}

export interface StickyPlan {
  agents: AgentConfig[];
  /** The agent the conversation's cache is warm on, when it is in this route. */
  warm?: Served;
}

/** At most this many conversations remembered; an old one simply routes as a new one. */
const MAX_CONVERSATIONS = 2_000;

export class StickyRoutes {
  private readonly served = new LRUCache<string, Served>({ max: MAX_CONVERSATIONS });

  /**
   * The route with the warm agent first, if it is in the route and `healthy` says so; the route
   * unchanged otherwise. Only for a conversation's turns; pinned agents and fan-out never come here.
   */
  plan(conversationKey: string | undefined, agents: AgentConfig[], healthy: (agent: AgentConfig) => boolean): StickyPlan {
    const warm = conversationKey ? this.served.get(conversationKey) : undefined;
    if (!warm) return { agents };
    const i = agents.findIndex((a) => a.id === warm.agentId);
    if (i < 0) return { agents };
    if (i === 0 || !healthy(agents[i])) return { agents, warm };
    return { agents: [agents[i], ...agents.slice(0, i), ...agents.slice(i + 1)], warm };
  }

  /**
   * Records the agent that answered a turn and what its provider now holds in cache: Anthropic
   * what it read and wrote; OpenAI caches every prompt of 1,024 tokens and more on its own.
   */
  /** The agent that answered the conversation's last turn, and what its provider holds cached. */
  servedBy(conversationKey: string): Readonly<Served> | undefined {
    return this.served.get(conversationKey);
  }

  remember(conversationKey: string, agent: Pick<AgentConfig, 'id' | 'provider'>, usage: Usage): void {
    const total = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    const cachedTokens = agent.provider === 'openai' ? (total >= OPENAI_CACHE_MINIMUM ? total : 0) : usage.cacheReadTokens + usage.cacheWriteTokens;
    this.served.set(conversationKey, { agentId: agent.id, cachedTokens });
  }
}

/**
 * What losing the cache cost, estimated: the cached prefix is read again at the new agent's input
 * price instead of the warm agent's cache-read price (a tenth of input where the table has none).
 */
export function lostCacheCostUsd(cachedTokens: number, warm: Pricing, answered: Pricing): number {
  const readPrice = warm.cacheReadPerMTok ?? warm.inputPerMTok * 0.1;
  return Math.max(0, (cachedTokens * (answered.inputPerMTok - readPrice)) / 1e6);
}
