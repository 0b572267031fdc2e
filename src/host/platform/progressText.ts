// The words of a progress notification, from the core's events: pure, unit-tested in plain Node.
import type { MaofEvent } from '../../core/events';
import { errorLabel, WAIT_VOCABULARY } from '../../shared/errorVocabulary';

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
      return `${verb} with ${event.agentId}… (retry ${event.attempt + 1} after ${errorLabel(event.code)}, waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s)`;
    case 'fallback':
      current.agent = event.to;
      return `${verb} with ${event.to}… (${event.from} failed: ${errorLabel(event.reason)})`;
    case 'waiting':
      return `${verb} with ${event.agentId ?? current.agent ?? 'MAOF'}… (waiting ${Math.max(1, Math.ceil((event.until - event.at) / 1000))} s ${WAIT_VOCABULARY[event.reason].forWhat})`;
    case 'queued':
      return `${verb} with ${event.agentId}… (waiting ${Math.max(1, Math.ceil(event.waitMs / 1000))} s for the rate limit)`;
    default:
      return undefined;
  }
}
