// What the chat's agent selector says about each agent and the note under it (no key, paused).
// Pure, so the rules are unit-tested: an agent that needs no key is never "no key".
import type { ChatAgentInfo } from '../../shared/chatProtocol';

export interface AgentNote {
  text: string;
  action?: { label: string; action: 'setApiKey' | 'resetBreakers' };
}

/** What follows an agent's name in the selector ("" when it is ready). */
export function agentSuffix(a: ChatAgentInfo): string {
  if (a.key === 'missing') return ' — no key';
  if (a.breaker === 'open') return ' — paused';
  if (a.breaker === 'half-open') return ' — probing';
  return '';
}

/** The note under the selector for the selected agent (or 'auto'), undefined when all is well. */
export function agentNote(agents: readonly ChatAgentInfo[], selected: string): AgentNote | undefined {
  if (selected === 'auto') {
    // Auto works as soon as one agent can be asked: a set key or a local model that needs none.
    if (agents.length > 0 && agents.every((x) => x.key === 'missing')) return { text: 'No API key is set for any agent.', action: { label: 'Set API Key', action: 'setApiKey' } };
    return undefined;
  }
  const a = agents.find((x) => x.id === selected);
  if (!a) return undefined;
  if (a.key === 'missing') return { text: `No API key for ${a.id} (${a.provider}).`, action: { label: 'Set API Key', action: 'setApiKey' } };
  if (a.breaker === 'open') return { text: `${a.id} is paused after repeated failures; MAOF will probe it again shortly.`, action: { label: 'Reset breaker', action: 'resetBreakers' } };
  return undefined;
}
