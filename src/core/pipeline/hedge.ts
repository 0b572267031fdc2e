// Opt-in hedging (issue 18 §4). On a route listed in maof.hedging.routes, when the agent tried first
// has shown no sign of life (text, a tool call, thinking: what the deadlines count, attemptGuard.ts;
// or its whole answer) by its hedge delay — a percentile of its own measured time to first token —
// the same request goes to the route's next agent as well. The first of the two to show one wins; the other is aborted, and billed for what it used like
// any call aborted at the provider. A part reaches the caller only from the branch that won, and a
// branch wins with its first part, so a stream never interleaves two answers. A token bucket
// (resilience/hedgeBudget.ts) caps hedges to a share of requests. The decisions: ARCHITECTURE.md.
import { toMaofError, type MaofError } from '../errors';
import type { AgentConfig, HedgingPolicy } from '../config/schema';
import { addUsage } from '../types';
import type { RouteSuccess } from './finish';
import type { RequestContext } from './requestContext';
import type { AttemptRecord } from './types';

/** Where the hedge delay is read from: each agent's measured time to first token (LatencyStats). */
interface TtftSource {
  samples(agentId: string): number;
  ttftPercentile(agentId: string, p: number): number | undefined;
}

/** Answers an agent must have given before its hedge delay is known; until then it is not hedged (its deadline still guards it). */
const HEDGE_MIN_SAMPLES = 5;

/** The hedge delay of an agent: the policy's percentile of its time to first token, at least minDelayMs; undefined while unknown. */
export function hedgeDelayMs(agentId: string, policy: HedgingPolicy, ttft: TtftSource): number | undefined {
  if (ttft.samples(agentId) < HEDGE_MIN_SAMPLES) return undefined;
  const p = ttft.ttftPercentile(agentId, policy.percentile);
  return p === undefined ? undefined : Math.max(policy.minDelayMs, Math.round(p));
}

export interface HedgePlan {
  readonly primary: AgentConfig;
  readonly backup: AgentConfig;
  readonly delayMs: number;
  /** An agent of the route comes after the backup. */
  readonly backupHasNext: boolean;
}

/**
 * The hedge the route's agent at `index` gets, if any: the route is listed, the request is not
 * pinned, a next agent exists, the agent's delay is known, and the conversation's prompt is not
 * cached on it (a hedge would pay that prompt in full elsewhere and move the conversation off its
 * cache: see ARCHITECTURE.md). Each request on a hedged route credits the hedge budget once.
 */
export function planHedge(ctx: RequestContext, agents: readonly AgentConfig[], index: number, ttft: TtftSource): HedgePlan | undefined {
  const { services } = ctx;
  const policy = services.config.hedging;
  if (policy.routes.length === 0 || ctx.req.agentId !== undefined || !policy.routes.includes(ctx.task)) return undefined;
  if (index === 0) services.hedgeBudget.credit();
  const primary = agents[index];
  const backup = agents[index + 1];
  if (!backup) return undefined;
  const warm = ctx.conversationKey ? services.sticky.servedBy(ctx.conversationKey) : undefined;
  if (warm && warm.agentId === primary.id && warm.cachedTokens > 0) return undefined;
  const delayMs = hedgeDelayMs(primary.id, policy, ttft);
  if (delayMs === undefined) return undefined;
  return { primary, backup, delayMs, backupHasNext: index + 2 < agents.length };
}

/** How a race ended: the winner's success, or the errors and how many agents of the route it used (1: the backup was not really tried). */
type HedgeOutcome = { ok: true; value: RouteSuccess } | { ok: false; errors: MaofError[]; tried: 1 | 2 };

/** One agent's stages (route.ts's tryAgent), passed in so that this module does not import the route. */
type TryAgent = (ctx: RequestContext, agent: AgentConfig, hasNext: boolean) => Promise<RouteSuccess>;

type Settled = { ok: true; value: RouteSuccess } | { ok: false; error: MaofError };

interface Branch {
  readonly agent: AgentConfig;
  readonly hedge: boolean;
  readonly abort: AbortController;
  ctx: RequestContext | undefined;
  settled: Settled | undefined;
}

/**
 * Runs the primary; if it has produced nothing by the delay and the budget has a hedge, the backup
 * too; returns when every branch started has settled (the loser is aborted as soon as the winner's
 * first part came, so that is soon after the winner is done).
 */
export async function raceHedge(ctx: RequestContext, plan: HedgePlan, tryAgent: TryAgent): Promise<HedgeOutcome> {
  const race = new HedgeRace(ctx, tryAgent);
  race.start(plan.primary, false, true);
  const silent = await race.silentFor(plan.delayMs);
  if (silent && !ctx.signal.aborted && ctx.services.hedgeBudget.take()) {
    const { services } = ctx;
    services.emit({ type: 'hedge.sent', at: services.clock.now(), requestId: ctx.requestId, agentId: plan.primary.id, hedgeAgentId: plan.backup.id, delayMs: plan.delayMs });
    services.logger.info(`Request ${ctx.requestId}: "${plan.primary.id}" produced nothing in ${plan.delayMs} ms; hedging with "${plan.backup.id}".`);
    race.start(plan.backup, true, plan.backupHasNext);
  }
  for (;;) {
    const outcome = race.outcome();
    if (outcome) return outcome;
    await race.changed();
  }
}

class HedgeRace {
  private readonly branches: Branch[] = [];
  private winner: Branch | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly ctx: RequestContext,
    private readonly tryAgent: TryAgent,
  ) {}

  /** Starts a branch: a fork of the request whose parts pass to the caller only once it has won. */
  start(agent: AgentConfig, hedge: boolean, hasNext: boolean): void {
    const parent = this.ctx;
    const branch: Branch = { agent, hedge, abort: new AbortController(), ctx: undefined, settled: undefined };
    const onParentAbort = (): void => branch.abort.abort();
    parent.signal.addEventListener('abort', onParentAbort, { once: true });
    const gate = <T>(pass: ((value: T) => void) | undefined): ((value: T) => void) | undefined =>
      pass &&
      ((value: T): void => {
        if (this.claim(branch)) pass(value);
      });
    // The backup's fallbacks start after it: as the route's last agent it gets its full time.
    const fallbackFrom = parent.fallbackFrom + (hedge ? 1 : 0);
    const forked = parent.fork({ signal: branch.abort.signal, onDelta: gate(parent.onDelta), onToolCall: gate(parent.onToolCall), onFirstPart: () => void this.claim(branch), fallbackFrom });
    branch.ctx = forked;
    this.branches.push(branch);
    this.tryAgent(forked, agent, hasNext)
      .then(
        (value) => {
          // An answer that did not stream (or streamed nothing) is its first part.
          this.claim(branch);
          branch.settled = { ok: true, value };
        },
        (err: unknown) => {
          branch.settled = { ok: false, error: toMaofError(err).withAgent(agent.id, agent.provider) };
        },
      )
      .finally(() => {
        parent.signal.removeEventListener('abort', onParentAbort);
        this.notify();
      });
  }

  /** Waits `ms` on the clock; true when by then no branch produced a part and none settled. */
  async silentFor(ms: number): Promise<boolean> {
    const stop = new AbortController();
    let due = false;
    const timer = this.ctx.services.clock.sleep(ms, stop.signal).then(
      () => (due = true),
      () => undefined,
    );
    try {
      while (!due && this.quiet()) await Promise.race([timer, this.changed()]);
    } finally {
      stop.abort();
    }
    return due && this.quiet();
  }

  /** Resolves at the next part, or the next branch settling. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The race's result once every branch started has settled; folded into the request. */
  outcome(): HedgeOutcome | undefined {
    if (this.branches.some((b) => !b.settled)) return undefined;
    const totals = this.fold();
    const won = this.winner?.settled;
    if (won?.ok) return { ok: true, value: { ...won.value, ...totals } };
    const errors = this.branches.flatMap((b) => (b.settled && !b.settled.ok && !this.lost(b) ? [b.settled.error] : []));
    const tried = this.winner ? (this.winner.hedge ? 2 : 1) : this.branches.length === 2 ? 2 : 1;
    return { ok: false, errors, tried };
  }

  private quiet(): boolean {
    return this.winner === undefined && this.branches.every((b) => !b.settled);
  }

  /** A branch's first sign of life (or part, or answer): it wins if nothing won before it, and the others are aborted. */
  private claim(branch: Branch): boolean {
    if (this.winner === undefined) {
      this.winner = branch;
      for (const other of this.branches) if (other !== branch) other.abort.abort();
      const loser = this.branches.find((b) => b !== branch);
      const { services, requestId } = this.ctx;
      if (loser) services.emit({ type: 'hedge.won', at: services.clock.now(), requestId, agentId: branch.agent.id, loserId: loser.agent.id });
      this.notify();
    }
    return this.winner === branch;
  }

  /** Aborted because the other branch won (not failed on its own). */
  private lost(branch: Branch): boolean {
    return this.winner !== undefined && branch !== this.winner && branch.settled?.ok !== true && branch.abort.signal.aborted;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Both branches' trails, usage and cost into the request (the hedge's attempts marked, the loser's last as aborted by it). */
  private fold(): Pick<RouteSuccess, 'attempts' | 'costUsd' | 'usage' | 'durationMs' | 'pruned' | 'promptCacheSavedUsd' | 'usageEstimated'> {
    const parent = this.ctx;
    for (const b of this.branches) {
      const branch = b.ctx;
      if (!branch) continue;
      const trail: AttemptRecord[] = branch.attempts.map((a) => (b.hedge ? { ...a, hedge: true } : a));
      const last = trail[trail.length - 1];
      if (last && this.lost(b)) trail[trail.length - 1] = { ...last, abortedBy: 'hedge' };
      parent.attempts.push(...trail);
      parent.usage = addUsage(parent.usage, branch.usage);
      parent.costUsd += branch.costUsd;
      if (branch.promptCacheSavedUsd !== undefined) parent.promptCacheSavedUsd = (parent.promptCacheSavedUsd ?? 0) + branch.promptCacheSavedUsd;
      if (branch.usageEstimated) parent.usageEstimated = true;
    }
    const pruned = (this.winner ?? this.branches[this.branches.length - 1]).ctx?.pruned;
    if (pruned) parent.pruned = pruned;
    return {
      attempts: parent.attempts,
      costUsd: parent.costUsd,
      usage: parent.usage,
      durationMs: parent.services.clock.now() - parent.started,
      pruned: parent.pruned,
      ...(parent.promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd: parent.promptCacheSavedUsd } : {}),
      ...(parent.usageEstimated ? { usageEstimated: true } : {}),
    };
  }
}
