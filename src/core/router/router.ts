// Turns a request into an ordered list of agents to try: explicit agent, or the task's route
// (primary first, then fallbacks). Health, key and window checks happen per attempt in the
// orchestrator because they change while a request runs.
import { MaofError } from '../errors';
import type { AgentConfig, MaofConfig } from '../config/schema';

export interface RoutePlan {
  task: string;
  agents: AgentConfig[];
  /** True when the user picked one agent: no fallback to others. */
  pinned: boolean;
}

function agentById(config: MaofConfig, id: string): AgentConfig | undefined {
  return config.agents.find((a) => a.id === id);
}

export function planRoute(config: MaofConfig, task: string, agentId?: string): RoutePlan {
  if (agentId) {
    const agent = agentById(config, agentId);
    if (!agent) {
      throw new MaofError('CONFIG', `There is no agent "${agentId}" — pick one of: ${config.agents.map((a) => a.id).join(', ')}.`);
    }
    return { task, agents: [agent], pinned: true };
  }
  const ids = config.routes[task];
  if (!ids || ids.length === 0) {
    const known = Object.keys(config.routes).join(', ');
    throw new MaofError('CONFIG', `There is no route for task "${task}" — use one of: ${known}, or add it to maof.routes.`);
  }
  const agents = ids.map((id) => agentById(config, id)).filter((a): a is AgentConfig => a !== undefined);
  return { task, agents, pinned: false };
}
