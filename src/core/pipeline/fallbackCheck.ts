// Whether another agent can still take a request, asked only when a learned first-token deadline
// passes: the last agent a request can try is never cut by one. An agent counts when the route
// would admit it now: its breaker not open, a key (or none needed), not out of credit with that key,
// a known price while a budget is set.
import type { AgentConfig } from '../config/schema';
import { keyTagOf } from '../resilience/creditMarks';
import type { RequestContext } from './requestContext';

/** Cheap and synchronous: something follows the agent in flight (admission is not checked). */
export function mayFallBack(ctx: RequestContext): boolean {
  const later = ctx.fallbacks;
  return later === 'always' || (later !== undefined && ctx.fallbackFrom < later.length);
}

export async function anotherAgentCanAnswer(ctx: RequestContext): Promise<boolean> {
  const later = ctx.fallbacks;
  if (later === 'always') return true;
  if (!later) return false;
  for (let i = ctx.fallbackFrom; i < later.length; i++) {
    if (await admissible(ctx, later[i])) return true;
  }
  return false;
}

async function admissible(ctx: RequestContext, agent: AgentConfig): Promise<boolean> {
  const { services } = ctx;
  if (services.breakers.get(agent.id).state === 'open' || services.refusedForPrice(agent)) return false;
  const key = await services.keyFor(agent);
  if (key === undefined) return !services.requiresKey(agent);
  return services.credit.size === 0 || !services.credit.isMarked(agent.id, keyTagOf(services.keyIdFor(agent, key)));
}
