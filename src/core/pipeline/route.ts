// Stage 3, route: the task's agents in order (primary, fallbacks; a pinned agent alone), sticky
// within a conversation; for each agent the admission checks (key, price, breaker, a paused key
// while a later agent is free) and the agent's own stages; fallback on a worthy failure; and, when
// every agent was skipped for an open breaker, a wait for the earliest one within maxTotalMs.
// Throws the last (most informative) error: AUTH, CONFIG, CIRCUIT_OPEN, CANCELLED…
import { MaofError, cancelledError, providerLabel, toMaofError, unknownPriceError } from '../errors';
import { ownKeyAllowed, providerKeyAllowed, type AgentConfig } from '../config/schema';
import { planRoute } from '../router/router';
import { keyTagOf } from '../resilience/creditMarks';
import { circuitOpenError, keyPausedError, outOfCreditError } from './agentErrors';
import { cacheKeyOf, cachedAnswer } from './cache';
import { answer } from './structured';
import { successResult, type RouteSuccess } from './finish';
import { prepareContext } from './prepareContext';
import type { RequestContext } from './requestContext';
import type { RoutedRequest } from './types';

/**
 * The agents to try, in order. A one-shot request (the hot path of commands and batches) gets its
 * plan at once, with no promise to await; a conversation's turn may look up the warm agent's key.
 */
export function planAgents(ctx: RequestContext): RoutedRequest | Promise<RoutedRequest> {
  const { services, req } = ctx;
  // A pinned agent (fan-out, compare, a chat with one agent picked) is not routed: nothing to keep sticky.
  const conversationKey = req.agentId ? undefined : ctx.conversationKey;
  const agents = planRoute(services.config, ctx.task, req.agentId).agents;
  if (!conversationKey) return { agents, conversationKey };
  return stickyPlan(ctx, agents, conversationKey);
}

/** The conversation's turn goes first to the agent whose provider holds its prompt in cache, while its breaker lets it and its key is there. */
async function stickyPlan(ctx: RequestContext, agents: AgentConfig[], conversationKey: string): Promise<RoutedRequest> {
  const { services } = ctx;
  const plan = services.sticky.plan(conversationKey, agents, (a) => services.breakers.get(a.id).state !== 'open');
  if (plan.agents === agents) return { ...plan, conversationKey };
  const warm = plan.agents[0];
  const usable = !services.requiresKey(warm) || (await services.keyFor(warm)) !== undefined;
  return usable ? { ...plan, conversationKey } : { agents, ...(plan.warm ? { warm: plan.warm } : {}), conversationKey };
}

/**
 * Tries the route; when it failed only because its agents' breakers are open (or a probe is in
 * flight), waits for the earliest cool-down to end or for any breaker to change, within the
 * request's maxTotalMs, and tries again instead of failing at once.
 */
export async function runRoute(ctx: RequestContext, agents: AgentConfig[]): Promise<RouteSuccess> {
  const { services } = ctx;
  for (;;) {
    try {
      return await runRouteOnce(ctx, agents);
    } catch (err) {
      const error = toMaofError(err);
      if (ctx.signal.aborted || error.code !== 'CIRCUIT_OPEN') throw err;
      const next = earliestBreakerRetry(ctx, agents);
      const deadline = ctx.started + services.config.retry.maxTotalMs;
      if (next === undefined || next.at > deadline) throw err;
      services.emit({ type: 'waiting', at: services.clock.now(), requestId: ctx.requestId, agentId: next.agentId, reason: 'breaker', until: next.at });
      services.logger.info(`Request ${ctx.requestId}: every agent of the route has its breaker open; waiting for "${next.agentId}" to be tried again.`);
      await waitForBreakers(ctx, next.at);
    }
  }
}

/** Tries each agent of the route in order; returns the first success or throws the last error. */
export async function runRouteOnce(ctx: RequestContext, agents: AgentConfig[]): Promise<RouteSuccess> {
  const { services } = ctx;
  let lastError: MaofError | undefined;
  const missingKeys = new Set<string>();
  ctx.fallbacks = agents;
  for (let i = 0; i < agents.length; i++) {
    const agent = agents[i];
    if (ctx.signal.aborted) throw cancelledError();
    ctx.fallbackFrom = i + 1;
    try {
      const result = await tryAgent(ctx, agent, i < agents.length - 1);
      if (missingKeys.size > 0) services.logger.info(`Request ${ctx.requestId}: no key for ${[...missingKeys].join(', ')}; answered by "${agent.id}".`);
      return result;
    } catch (err) {
      const error = toMaofError(err).withAgent(agent.id, agent.provider);
      if (error.code === 'CANCELLED' || ctx.signal.aborted) throw cancelledError();
      if (error.code === 'AUTH' && error.status === undefined) missingKeys.add(providerLabel(agent.provider));
      lastError = preferInformative(lastError, error);
      const next = agents[i + 1];
      // An agent that went silent after part of its answer reached the caller ends the request:
      // another agent's answer would repeat what was shown.
      if (error.code === 'STALLED' && ctx.deltasDelivered) throw error;
      if (!next || !error.fallbackWorthy) throw next ? error : lastError;
      if (services.clock.now() >= ctx.started + services.config.retry.maxTotalMs) {
        services.logger.info(`Request ${ctx.requestId}: "${agent.id}" failed with ${error.code} and retry.maxTotalMs is spent; not trying "${next.id}".`);
        throw lastError;
      }
      services.emit({ type: 'fallback', at: services.clock.now(), requestId: ctx.requestId, from: agent.id, to: next.id, reason: error.code });
      services.logger.info(`Request ${ctx.requestId}: "${agent.id}" failed with ${error.code}; falling back to "${next.id}".`);
    }
  }
  throw lastError ?? new MaofError('CONFIG', `The route for task "${ctx.task}" has no agents — add one to maof.routes.`);
}

/**
 * One agent: admitted, its context prepared for its window, answered (from the cache or the agent).
 * `hasNext`: something else can take the request (a later agent, the classifier's heuristics), so a
 * key the provider paused is passed over rather than waited out.
 */
export async function tryAgent(ctx: RequestContext, agent: AgentConfig, hasNext: boolean): Promise<RouteSuccess> {
  const apiKey = admitAgent(ctx, agent, await ctx.services.keyFor(agent), hasNext);
  const call = prepareContext(ctx, agent, apiKey);
  // Without a cache key the answer is awaited here directly: one promise less on the hot path.
  const key = cacheKeyOf(ctx, call);
  if (key === undefined) return successResult(ctx, call, await answer(ctx, call), false);
  const { value, cached } = await cachedAnswer(ctx, call, key);
  return successResult(ctx, call, value, cached);
}

/**
 * The checks before anything is prepared for an agent, given the key its secrets hold: a key (or
 * none needed), its price while a budget is set, its breaker, and (`hasNext`: a later agent may
 * take the request) a key the provider paused. Returns the key ('' for a local server that needs none).
 */
export function admitAgent(ctx: RequestContext, agent: AgentConfig, storedKey: string | undefined, hasNext: boolean): string {
  const { services } = ctx;
  const apiKey = storedKey ?? (services.requiresKey(agent) ? undefined : '');
  if (apiKey === undefined) {
    ctx.skip(agent.id, 'CONFIG', 'AUTH');
    throw new MaofError('AUTH', missingKeyMessage(agent), { agentId: agent.id, provider: agent.provider });
  }
  if (services.refusedForPrice(agent)) {
    ctx.skip(agent.id, 'PRICE_UNKNOWN', 'CONFIG');
    throw unknownPriceError(agent.id, agent.model);
  }
  if (services.credit.size > 0 && services.credit.isMarked(agent.id, keyTagOf(services.keyIdFor(agent, apiKey)))) {
    // Out of credit with this key: asked again only once the key changes or the breaker is reset.
    ctx.skip(agent.id, 'CONFIG', 'OUT_OF_CREDIT');
    throw outOfCreditError(agent);
  }
  if (services.breakers.get(agent.id).state === 'open') {
    ctx.skip(agent.id, 'CIRCUIT_OPEN', 'CIRCUIT_OPEN');
    throw circuitOpenError(agent.id);
  }
  if (hasNext) {
    // The provider paused this agent's key (a 429): while another agent of the route is free, go
    // there rather than queue behind the pause; only a route whose agents are all paused waits.
    const paused = services.limiter.pausedUntil(services.keyIdFor(agent, apiKey));
    if (paused !== undefined) {
      ctx.attempts.push({ agent: agent.id, outcome: 'skipped' });
      throw keyPausedError(agent.id, paused - services.clock.now());
    }
  }
  return apiKey;
}

/** The agent whose breaker lets a request through first, and when (probe in flight: its time-out). */
function earliestBreakerRetry(ctx: RequestContext, agents: AgentConfig[]): { agentId: string; at: number } | undefined {
  let best: { agentId: string; at: number } | undefined;
  const now = ctx.services.clock.now();
  for (const agent of agents) {
    const breaker = ctx.services.breakers.get(agent.id);
    // A closed breaker in a route that failed only on paused agents is an agent without a key.
    if (breaker.state === 'closed') continue;
    const at = now + breaker.retryInMs();
    if (!best || at < best.at) best = { agentId: agent.id, at };
  }
  return best;
}

function waitForBreakers(ctx: RequestContext, until: number): Promise<void> {
  const { services, signal } = ctx;
  const done = new AbortController();
  const wake = (): void => done.abort();
  services.breakerWaiters.add(wake);
  const onAbort = (): void => done.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  return services.clock
    .sleep(Math.max(1, until - services.clock.now()), done.signal)
    .catch(() => undefined)
    .finally(() => {
      services.breakerWaiters.delete(wake);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) throw cancelledError();
    });
}

function missingKeyMessage(agent: AgentConfig): string {
  if (!ownKeyAllowed(agent)) {
    return `Agent "${agent.id}" comes from this workspace's settings and uses its own endpoint, so MAOF sends it no API key — define the agent in your user settings to use it with a key.`;
  }
  return providerKeyAllowed(agent)
    ? `No ${providerLabel(agent.provider)} API key is set for agent "${agent.id}" — run "MAOF: Set API Key".`
    : `Agent "${agent.id}" uses its own endpoint, so it needs its own key — run "MAOF: Set API Key" and pick the agent.`;
}

/** A missing key says less than a real upstream failure; keep the more useful error to show. */
function preferInformative(previous: MaofError | undefined, next: MaofError): MaofError {
  if (!previous) return next;
  const weak = (e: MaofError): boolean => e.code === 'CIRCUIT_OPEN' || (e.code === 'AUTH' && e.status === undefined);
  if (weak(next) && !weak(previous)) return previous;
  return next;
}
