// The models MAOF offers VS Code's Language Model API (the native Chat, Copilot's bring-your-own-
// key, Cline, Roo Code): `auto`, one per task route and one per agent (pinned). Pure: no vscode
// import, unit-tested in plain Node; chatModelProvider.ts hands these to VS Code.
import type { AgentConfig, MaofConfig } from '../../core/config/schema';

export type ModelTarget = { kind: 'auto' } | { kind: 'task'; task: string } | { kind: 'agent'; agentId: string };

export interface CatalogModel {
  id: string;
  name: string;
  family: string;
  version: string;
  detail: string;
  tooltip: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  capabilities: { toolCalling: boolean; imageInput: boolean };
  target: ModelTarget;
}

/** Model ids of pinned agents: `agent:<id>` (a task and an agent may share a name). */
export const AGENT_MODEL_PREFIX = 'agent:';

/** The id VS Code passes back for a model, to what MAOF runs. */
export function targetOf(modelId: string, config: MaofConfig): ModelTarget | undefined {
  if (modelId === 'auto') return { kind: 'auto' };
  if (modelId.startsWith(AGENT_MODEL_PREFIX)) {
    const agentId = modelId.slice(AGENT_MODEL_PREFIX.length);
    return config.agents.some((a) => a.id === agentId) ? { kind: 'agent', agentId } : undefined;
  }
  return config.routes[modelId] ? { kind: 'task', task: modelId } : undefined;
}

function titleCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Tokens an agent reads at most, its answer's share kept free. */
function inputTokensOf(agent: AgentConfig, reservedOutput: number | undefined): number {
  return Math.max(1, agent.contextWindow - (reservedOutput ?? agent.maxOutputTokens));
}

/** Tools: every agent unless its settings say `toolCalling: false` (a local model without tool support). */
export function callsTools(agent: AgentConfig): boolean {
  return agent.toolCalling ?? true;
}

/**
 * Images: Anthropic's models and OpenAI's own API take them; an OpenAI-compatible server behind a
 * baseUrl may not, so it is not offered there unless its settings say `imageInput: true`.
 */
export function takesImages(agent: AgentConfig): boolean {
  return agent.imageInput ?? (agent.provider === 'anthropic' ? true : agent.baseUrl === undefined);
}

/** The family VS Code's Chat picks its tuned prompts by: the agent's `family` setting, else its model id. */
export function familyOf(agent: AgentConfig): string {
  return agent.family ?? agent.model;
}

/** What is true of the agents now: which have a key, whose breaker is open. */
export interface AgentReadiness {
  hasKey(agentId: string): boolean;
  breakerOpen(agentId: string): boolean;
}

/**
 * The agents that may answer a route: those with a key (an agent without one is skipped), or all
 * of them when none has a key yet (so the model still says what it will be once keys are set).
 */
function mayAnswer(agents: readonly AgentConfig[], ready: AgentReadiness): AgentConfig[] {
  const keyed = agents.filter((a) => ready.hasKey(a.id));
  return keyed.length > 0 ? keyed : [...agents];
}

/** The agent that would answer now: the first that may answer whose breaker is not open. */
function answeringNow(agents: readonly AgentConfig[], ready: AgentReadiness): AgentConfig | undefined {
  const candidates = mayAnswer(agents, ready);
  return candidates.find((a) => !ready.breakerOpen(a.id)) ?? candidates[0];
}

function describe(agents: readonly AgentConfig[], reservedOutput: number | undefined): Pick<CatalogModel, 'maxInputTokens' | 'maxOutputTokens' | 'capabilities'> {
  if (agents.length === 0) return { maxInputTokens: 1, maxOutputTokens: 1, capabilities: { toolCalling: false, imageInput: false } };
  // What every agent that may answer can take: a prompt sized for a larger window would be
  // refused by a fallback (or pruned by VS Code to a size none of them reads), a tool call or an
  // image claimed for the route would fail on the agent that cannot.
  return {
    maxInputTokens: Math.min(...agents.map((a) => inputTokensOf(a, reservedOutput))),
    maxOutputTokens: Math.min(...agents.map((a) => a.maxOutputTokens)),
    capabilities: { toolCalling: agents.every(callsTools), imageInput: agents.every(takesImages) },
  };
}

/**
 * VS Code's own "Auto" in the Chat's picker takes the first model by name: MAOF's auto is named
 * "MAOF", which sorts before every other MAOF model ("MAOF Code", "MAOF · gpt-4.1") in any collation.
 */
export function modelCatalog(config: MaofConfig, ready: AgentReadiness): CatalogModel[] {
  const byId = new Map(config.agents.map((a) => [a.id, a]));
  const reserved = config.context.reservedOutputTokens;
  const routeAgents = (task: string): AgentConfig[] => (config.routes[task] ?? []).map((id) => byId.get(id)).filter((a): a is AgentConfig => a !== undefined);
  const keyNote = (agents: readonly AgentConfig[]): string => {
    const missing = agents.filter((a) => !ready.hasKey(a.id)).map((a) => a.id);
    if (missing.length === 0) return '';
    return missing.length === agents.length ? ' No API key is set for these agents — run "MAOF: Set API Key".' : ` No key for ${missing.join(', ')} (skipped).`;
  };
  const out: CatalogModel[] = [];

  const allRouted = [...new Set(Object.keys(config.routes).flatMap((t) => routeAgents(t)))];
  // Auto classifies each request; the Chat mostly asks for code, so its family is the code route's.
  const autoFamily = answeringNow(routeAgents('code').length > 0 ? routeAgents('code') : allRouted, ready);
  out.push({
    id: 'auto',
    name: 'MAOF',
    family: autoFamily ? familyOf(autoFamily) : 'maof-auto',
    version: '1',
    detail: 'Auto — the best agent per request',
    tooltip: `Classifies each request (code, writing, analysis, …) and sends it to that task's route, with retries, fallbacks, circuit breakers and your budget.${keyNote(allRouted)}`,
    ...describe(mayAnswer(allRouted, ready), reserved),
    target: { kind: 'auto' },
  });

  for (const task of Object.keys(config.routes)) {
    const agents = routeAgents(task);
    if (agents.length === 0) continue;
    const now = answeringNow(agents, ready);
    out.push({
      id: task,
      name: `MAOF ${titleCase(task)}`,
      family: now ? familyOf(now) : `maof-${task}`,
      version: '1',
      detail: agents.map((a) => a.id).join(' → '),
      tooltip: `The "${task}" route: ${agents.map((a) => `${a.id} (${a.model})`).join(', then ')} — retries, fallbacks, breakers and budget.${keyNote(agents)}`,
      ...describe(mayAnswer(agents, ready), reserved),
      target: { kind: 'task', task },
    });
  }

  for (const agent of config.agents) {
    out.push({
      id: `${AGENT_MODEL_PREFIX}${agent.id}`,
      name: `MAOF · ${agent.id}`,
      family: familyOf(agent),
      version: agent.model,
      detail: `${agent.model} — pinned, retries, no fallback`,
      tooltip: `Always agent "${agent.id}" (${agent.model}): retries and its circuit breaker, but no fallback to another agent.${keyNote([agent])}`,
      ...describe([agent], reserved),
      target: { kind: 'agent', agentId: agent.id },
    });
  }
  return out;
}
