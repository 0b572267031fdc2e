// The words of a progress notification, from the core's events: pure, unit-tested in plain Node.
import type { ErrorCode } from '../../core/errors';
import type { MaofEvent, WaitReason } from '../../core/events';

const REASON: Partial<Record<ErrorCode, string>> = {
  RATE_LIMITED: '429',
  OVERLOADED: 'overload',
  TIMEOUT: 'timeout',
  NETWORK: 'network error',
  UPSTREAM: 'server error',
  AUTH: 'key rejected',
  CIRCUIT_OPEN: 'paused',
  CONTEXT_TOO_LARGE: 'context too large',
  INVALID_OUTPUT: 'invalid output',
};

const WAITING: Record<WaitReason, string> = {
  'rate-limit': 'for the provider’s rate limit',
  breaker: 'for a paused agent',
  budget: 'for budget held by requests in flight',
};

export function reasonLabel(code: ErrorCode): string {
  return REASON[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/** The progress line for an event of the tracked request, or undefined when nothing changes. */
export function narrate(verb: string, event: MaofEvent, current: { agent?: string }): string | undefined {
  switch (event.type) {
    case 'request.started':
      current.agent = event.agents[0];
      return current.agent ? `${verb} with ${current.agent}…` : undefined;
    case 'attempt':
      current.agent = event.agentId;
      return event.attempt > 1 ? `${verb} with ${event.agentId}… (attempt ${event.attempt})` : `${verb} with ${event.agentId}…`;
    case 'retry.scheduled':
      return `${verb} with ${event.agentId}… (retry ${event.attempt + 1} after ${reasonLabel(event.code)}, waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s)`;
    case 'fallback':
      current.agent = event.to;
      return `${verb} with ${event.to}… (${event.from} failed: ${reasonLabel(event.reason)})`;
    case 'waiting':
      return `${verb} with ${event.agentId ?? current.agent ?? 'MAOF'}… (waiting ${Math.max(1, Math.ceil((event.until - event.at) / 1000))} s ${WAITING[event.reason]})`;
    case 'queued':
      return `${verb} with ${event.agentId}… (waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s for the rate limit)`;
    default:
      return undefined;
  }
}
