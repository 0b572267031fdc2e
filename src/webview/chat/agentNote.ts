// What the chat's agent selector says about each agent and the note under it (no key, breaker open).
// Pure, so the rules are unit-tested: an agent that needs no key is never "no key".
import { ACTIONS, errorLabel, type ActionId } from '../../shared/errorVocabulary';
import type { ChatAgentInfo } from '../../shared/chatProtocol';

export interface AgentNote {
  text: string;
  action?: { label: string; action: ActionId };
}

/** What follows an agent's name in the selector ("" when it is ready). */
export function agentSuffix(a: ChatAgentInfo): string {
  if (a.key === 'missing') return ' — no key';
  if (a.breaker === 'open') return ` — ${errorLabel('CIRCUIT_OPEN')}`;
  if (a.breaker === 'half-open') return ' — probing';
  return '';
}

const setKey = { label: ACTIONS.setApiKey.label, action: 'setApiKey' } as const;

/** The note under the selector for the selected agent (or 'auto'), undefined when all is well. */
export function agentNote(agents: readonly ChatAgentInfo[], selected: string): AgentNote | undefined {
  if (selected === 'auto') {
    // Auto works as soon as one agent can be asked: a set key or a local model that needs none.
    if (agents.length > 0 && agents.every((x) => x.key === 'missing')) return { text: 'No API key is set for any agent.', action: setKey };
    return undefined;
  }
  const a = agents.find((x) => x.id === selected);
  if (!a) return undefined;
  if (a.key === 'missing') return { text: `No API key for ${a.id} (${a.provider}).`, action: setKey };
  if (a.breaker === 'open') return { text: `${a.id}'s circuit breaker is open after repeated failures; MAOF will probe it again shortly.`, action: { label: ACTIONS.resetBreakers.label, action: 'resetBreakers' } };
  return undefined;
}
