// The agent call's own failures, worded for the user: an answer that is no answer, an open
// breaker, a key its provider paused for longer than the request may wait.
import { MaofError } from '../errors';
import type { AgentConfig } from '../config/schema';
import type { ProviderResponse } from '../providers/providerTypes';

/**
 * An answer with no text is not a success, whatever its status: filtered by the provider,
 * refused by the model, or simply empty (a compatible server's `choices: []`). A refusal or a
 * filter that cut a started answer is no answer either.
 */
export function unusableAnswer(response: ProviderResponse, agent: AgentConfig): MaofError | undefined {
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

export function circuitOpenError(agentId: string): MaofError {
  return new MaofError('CIRCUIT_OPEN', `Agent "${agentId}" has its circuit breaker open after repeated failures — MAOF will try it again shortly, or run "MAOF: Reset Circuit Breakers".`, { agentId });
}

/** A request on a key the provider paused for longer than the request may still wait: try the next agent. */
export function keyPausedError(agentId: string, waitMs: number): MaofError {
  return new MaofError('RATE_LIMITED', `Agent "${agentId}" is rate-limited by its provider for another ${Math.max(1, Math.ceil(waitMs / 1000))} s — MAOF tried the other agents of the route; try again shortly.`, { agentId, retryAfterMs: waitMs });
}

/** An agent skipped because its provider said, with this same key, that the account is out of credit. */
export function outOfCreditError(agent: AgentConfig): MaofError {
  return new MaofError(
    'OUT_OF_CREDIT',
    `Agent "${agent.id}" is out of credit with its provider — add credit in the provider's billing settings, or set another key; MAOF skips it until its key changes or its breaker is reset.`,
    { agentId: agent.id, provider: agent.provider, detail: 'skipped: out of credit with this key' },
  );
}
