// The agent call's money, in one place: reserve the worst case before anything is sent, settle to
// the provider's usage after an answer, bill an estimate for a call aborted at the provider (the
// caller's cancel, a missed deadline), release the reservation of a call that cost nothing.
import { addUsage, type ChatMessage, type Usage } from '../types';
import { pricingFor, type AgentConfig } from '../config/schema';
import { costOf, promptCacheSavingsUsd, worstCaseCost } from '../cost/costCalculator';
import type { Pricing } from '../cost/priceTable';
import type { Reservation } from '../cost/costLedger';
import { tokenizerFor } from '../context/tokenizer';
import type { ProviderResponse } from '../providers/providerTypes';
import type { AgentCall } from './prepareContext';
import type { RequestContext } from './requestContext';
import { unusableAnswer } from './agentErrors';

/** One agent call's bill: what was reserved, at which price, for how many input tokens. */
export interface CallBill {
  readonly agent: AgentConfig;
  readonly pricing: Pricing;
  readonly reservation: Reservation;
  /** Input tokens as reserved: exact when the reservation had to wait, else the cheap upper bound. */
  readonly inputTokens: number;
  settled: boolean;
  /**
   * The provider read the prompt and the call was aborted there (the caller's cancel, a missed
   * deadline): billed as an estimate, not released, since the provider will bill it too.
   */
  abortedAtProvider: boolean;
}

/** Reserves the call's worst case; waits (within the request's deadline) while the budget is held by calls in flight. */
export async function reserveCall(ctx: RequestContext, call: AgentCall, deadline: number): Promise<CallBill> {
  const { services } = ctx;
  const { agent, messages, maxOutputTokens } = call;
  const pricing = pricingFor(agent);
  let inputTokens = call.inputTokens;
  let reservation: Reservation | undefined = services.ledger.tryReserve(worstCaseCost(inputTokens, maxOutputTokens, pricing));
  if (!reservation) {
    // A refusal or a wait is at stake: count the input exactly instead of the cheap upper bound.
    const exact = services.messageTokens(tokenizerFor(agent.provider, agent.model), messages);
    if (exact < inputTokens) inputTokens = exact;
    const pending = services.ledger.reserveOrWait(worstCaseCost(inputTokens, maxOutputTokens, pricing), {
      agentId: agent.id,
      maxOutputTokens,
      signal: ctx.signal,
      deadline,
      onWait: () => services.emit({ type: 'waiting', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, reason: 'budget', until: deadline }),
    });
    reservation = pending instanceof Promise ? await pending : pending;
  }
  return { agent, pricing, reservation, inputTokens, settled: false, abortedAtProvider: false };
}

/** Settles an answer to the provider's usage (or the tokenizer's count when it reported none); returns its cost. */
export function settleAnswer(ctx: RequestContext, bill: CallBill, response: ProviderResponse): number {
  const { services } = ctx;
  const { agent, pricing } = bill;
  const costUsd = costOf(response.usage, pricing);
  const outcome = unusableAnswer(response, agent) ? 'invalid-output' : 'ok';
  services.ledger.settle(bill.reservation, { requestId: ctx.requestId, agentId: agent.id, model: agent.model, task: ctx.task, usage: response.usage, costUsd, cached: false, source: ctx.source, outcome, ...timings(ctx) });
  bill.settled = true;
  ctx.usage = addUsage(ctx.usage, response.usage);
  ctx.costUsd += costUsd;
  const promptCacheSavedUsd = response.usage.cacheReadTokens + response.usage.cacheWriteTokens > 0 ? promptCacheSavingsUsd(response.usage, pricing) : undefined;
  if (promptCacheSavedUsd !== undefined) ctx.promptCacheSavedUsd = (ctx.promptCacheSavedUsd ?? 0) + promptCacheSavedUsd;
  if (response.usageEstimated) {
    ctx.usageEstimated = true;
    services.logger.info(`Request ${ctx.requestId}: "${agent.id}" reported no usage; its cost is estimated with the tokenizer.`);
  }
  if (services.events.active) services.emit({ type: 'usage', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, usage: response.usage, costUsd, ...(response.usageEstimated ? { estimated: true } : {}), ...(promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd } : {}) });
  return costUsd;
}

/** A call that ended without an answer: billed as an estimate when aborted at the provider, else released. */
export function closeUnsettled(ctx: RequestContext, bill: CallBill): void {
  if (bill.settled) return;
  bill.settled = true;
  if (bill.abortedAtProvider) billAborted(ctx, bill);
  else ctx.services.ledger.release(bill.reservation);
}

/**
 * Settles a call aborted while it was at the provider, with the estimate the adapters use when a
 * provider reports no usage: the counted input, and about four characters a token for what was
 * streamed before the abort.
 */
function billAborted(ctx: RequestContext, bill: CallBill): void {
  const { services } = ctx;
  const { agent } = bill;
  const usage: Usage = { inputTokens: bill.inputTokens, outputTokens: Math.ceil(ctx.streamedChars / 4), cacheReadTokens: 0, cacheWriteTokens: 0 };
  const costUsd = costOf(usage, bill.pricing);
  // The caller's cancel, or MAOF's own abort of a call that went silent (a missed deadline).
  const outcome = ctx.signal.aborted ? 'cancelled' : 'stalled';
  services.ledger.settle(bill.reservation, { requestId: ctx.requestId, agentId: agent.id, model: agent.model, task: ctx.task, usage, costUsd, cached: false, source: ctx.source, outcome, ...timings(ctx) });
  ctx.usage = addUsage(ctx.usage, usage);
  ctx.costUsd += costUsd;
  services.emit({ type: 'usage', at: services.clock.now(), requestId: ctx.requestId, agentId: agent.id, usage, costUsd });
}

/** Time to the first streamed text and in all, from the request's start, for the usage history. */
function timings(ctx: RequestContext): { totalMs: number; ttftMs?: number } {
  const totalMs = ctx.services.clock.now() - ctx.started;
  return ctx.firstDeltaAt !== undefined ? { totalMs, ttftMs: ctx.firstDeltaAt - ctx.started } : { totalMs };
}

/** Usage counted with the agent's tokenizer, for a provider that reported none. */
export function countedUsage(ctx: RequestContext, agent: AgentConfig, messages: readonly ChatMessage[], text: string): Usage {
  const tokenizer = tokenizerFor(agent.provider, agent.model);
  return { inputTokens: ctx.services.messageTokens(tokenizer, messages), outputTokens: text ? tokenizer.count(text) : 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}
