// The one configuration schema, shared by the VS Code settings (`maof.*`) and the CLI's config
// file. Invalid values never crash anything: `parseConfig` keeps every valid field, falls back to
// the default for each invalid one and returns a warning that names it.
import { z } from 'zod';
import { builtInPrice, type Pricing } from '../cost/priceTable';
import { BUILTIN_AGENTS, BUILTIN_ROUTES, BUILTIN_TASKS } from './defaults';

const nonNegInt = z.number().int().nonnegative();
const posInt = z.number().int().positive();
const money = z.number().nonnegative().finite();

export const pricingSchema = z.object({
  inputPerMTok: money,
  outputPerMTok: money,
  cacheReadPerMTok: money.optional(),
  cacheWritePerMTok: money.optional(),
});

export const agentSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'use letters, digits, ".", "_", ":" or "-" (at most 64)'),
  provider: z.enum(['openai', 'anthropic']),
  model: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Name of the SecretStorage entry holding this agent's key (default: the provider's key). */
  apiKeySecret: z.string().min(1).optional(),
  /** Environment variable the CLI reads this agent's key from. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: posInt.default(4096),
  contextWindow: posInt,
  pricing: pricingSchema.optional(),
  rateLimit: z.object({ rpm: posInt.optional(), tpm: posInt.optional() }).default({}),
  timeoutMs: posInt.default(120_000),
  /**
   * Deadline from sending to the first part of the answer (text, tool call, thinking), in ms; 0
   * turns it off. Unset: learned from the agent's own answers (see maof.deadlines). A value set here
   * applies even to the last agent a request can try, which a learned deadline never cuts.
   */
  firstTokenTimeoutMs: nonNegInt.optional(),
  /** Deadline between two chunks of a streaming answer, in ms; 0 turns it off. Unset: maof.deadlines.idleMs. */
  idleTimeoutMs: nonNegInt.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** False for local servers that take no key (Ollama, LM Studio); default: true, except for loopback base URLs. */
  requiresKey: z.boolean().optional(),
  /** Free text shown in pickers: what this agent is good at. */
  description: z.string().optional(),
  /**
   * Ask the provider to cache this agent's prompts within a conversation (Anthropic cache
   * breakpoints, OpenAI's prompt_cache_key and a byte-stable prefix). Default on; false turns it off.
   */
  promptCache: z.boolean().optional(),
  /** The model can call tools (VS Code's agent mode, tool-using extensions); default true. */
  toolCalling: z.boolean().optional(),
  /** The model reads images; default: Anthropic's models and OpenAI's own API yes, another endpoint (baseUrl) no. */
  imageInput: z.boolean().optional(),
  /** The model family VS Code's Chat tunes its prompts for (e.g. "gpt-4.1", "claude-sonnet-4"); default: the model id. */
  family: z.string().min(1).optional(),
  /** Also send OpenAI's prompt_cache_key to this agent's baseUrl (off by default: some compatible servers reject unknown fields). */
  promptCacheKey: z.boolean().optional(),
});

export const retrySchema = z.object({
  maxAttempts: z.number().int().min(1).max(20).default(3),
  baseDelayMs: nonNegInt.default(500),
  maxDelayMs: nonNegInt.default(8_000),
  maxTotalMs: posInt.default(60_000),
  maxRetryAfterMs: nonNegInt.default(30_000),
  /** Fraction of each backoff delay that is randomised (0 = none, 1 = full jitter). */
  jitter: z.number().min(0).max(1).default(0.5),
});

export const breakerSchema = z.object({
  failureThreshold: z.number().int().min(1).default(5),
  /** Optional: also open when this fraction of the last `windowSize` calls failed. */
  failureRateThreshold: z.number().gt(0).max(1).optional(),
  windowSize: z.number().int().min(2).default(20),
  resetTimeoutMs: posInt.default(60_000),
});

export const deadlinesSchema = z.object({
  /** False: no first-token or idle deadline (an agent's own firstTokenTimeoutMs / idleTimeoutMs still apply). */
  enabled: z.boolean().default(true),
  /** First-token deadline of an agent that has not answered often enough to learn its own (cold start). */
  firstTokenMs: posInt.default(12_000),
  /** Deadline between two chunks of a streaming answer. */
  idleMs: posInt.default(30_000),
});

export const budgetSchema = z.object({
  monthlyUsd: money.optional(),
  dailyUsd: money.optional(),
  perRequestUsd: money.optional(),
  /** Fractions of a limit at which an alert fires; a single number is accepted too. */
  alertAt: z
    .union([z.number().gt(0).max(1), z.array(z.number().gt(0).max(1)).max(10)])
    .default([0.8])
    .transform((v) => (Array.isArray(v) ? [...new Set(v)].sort((a, b) => a - b) : [v])),
});

export const cacheSchema = z.object({
  enabled: z.boolean().default(true),
  ttlMs: posInt.default(600_000),
  maxEntries: posInt.max(100_000).default(500),
  /** Also cache requests with temperature > 0 (their answers would otherwise vary). */
  cacheNonDeterministic: z.boolean().default(false),
});

export const contextSchema = z.object({
  /** Output tokens kept free in each agent's window; default: the agent's maxOutputTokens. */
  reservedOutputTokens: posInt.optional(),
  /** Upper bound on context tokens sent, whatever the window (cost control). */
  maxContextTokens: posInt.default(32_000),
  includeOpenTabs: z.boolean().default(true),
  includeVisibleEditors: z.boolean().default(true),
  historyTurns: nonNegInt.max(200).default(10),
  maxFileBytes: posInt.default(1_000_000),
  redactSecrets: z.boolean().default(true),
  /** Extra glob-like patterns of files never sent (".env*" and key files are always excluded). */
  excludeFiles: z.array(z.string()).default([]),
});

/** Where the one ledger of the user lives and how much history it keeps (issue 19). */
export const storageSchema = z.object({
  /** The state directory; default: the platform's (see persistence/stateDir.ts). MAOF_STATE_DIR wins. */
  dir: z.string().max(4096).optional(),
  /** Months of request history kept; at least 13, so that a year ago's month is still whole. */
  historyMonths: z.number().int().min(1).max(240).default(13),
});

export const taskSchema = z.object({
  description: z.string().default(''),
  /** Words that make `auto` classify a request as this task. */
  keywords: z.array(z.string()).default([]),
  systemPrompt: z.string().optional(),
  /** Used when neither the request nor the agent sets one; 0 makes answers cacheable. */
  temperature: z.number().min(0).max(2).optional(),
});

export type AgentConfig = z.output<typeof agentSchema> & {
  /**
   * Set by the host, never by a setting (the schema drops unknown fields): the agent was defined or
   * changed by workspace or folder settings, so it gets a key only on the provider's official API.
   */
  readonly fromWorkspace?: true;
};
export type AgentInput = z.input<typeof agentSchema>;
export type RetryPolicy = z.output<typeof retrySchema>;
export type BreakerPolicy = z.output<typeof breakerSchema>;
export type DeadlinePolicy = z.output<typeof deadlinesSchema>;
export type BudgetPolicy = z.output<typeof budgetSchema>;
export type CachePolicy = z.output<typeof cacheSchema>;
export type ContextPolicy = z.output<typeof contextSchema>;
export type StoragePolicy = z.output<typeof storageSchema>;
export type TaskConfig = z.output<typeof taskSchema>;

export interface MaofConfig {
  agents: AgentConfig[];
  routes: Record<string, string[]>;
  tasks: Record<string, TaskConfig>;
  retry: RetryPolicy;
  breaker: BreakerPolicy;
  deadlines: DeadlinePolicy;
  budget: BudgetPolicy;
  cache: CachePolicy;
  context: ContextPolicy;
  storage: StoragePolicy;
  /** Agent used to classify `auto` requests the local heuristics are unsure of (optional). */
  classifierAgent?: string;
}

export interface ConfigIssue {
  /** Dotted path of the setting, e.g. `retry.maxAttempts` or `agents[1].model`. */
  path: string;
  message: string;
}

export interface ParsedConfig {
  config: MaofConfig;
  issues: ConfigIssue[];
}

type Section = 'retry' | 'breaker' | 'deadlines' | 'budget' | 'cache' | 'context' | 'storage';
const SECTIONS = { retry: retrySchema, breaker: breakerSchema, deadlines: deadlinesSchema, budget: budgetSchema, cache: cacheSchema, context: contextSchema, storage: storageSchema } as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input: /, '');
}

function joinPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** Parses one object section field by field so that one bad field does not cost the others. */
function salvageObject<S extends z.ZodObject>(schema: S, input: unknown, base: string, issues: ConfigIssue[]): z.output<S> {
  const defaults = schema.parse({}) as Record<string, unknown>;
  if (input === undefined || input === null) return defaults as z.output<S>;
  if (!isRecord(input)) {
    issues.push({ path: base, message: 'expected an object; using the defaults' });
    return defaults as z.output<S>;
  }
  const whole = schema.safeParse(input);
  if (whole.success) return whole.data;
  const kept: Record<string, unknown> = {};
  const shape = schema.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(input)) {
    const field = shape[key];
    if (!field) continue;
    const r = field.safeParse(value);
    if (r.success) kept[key] = value;
    else for (const i of r.error.issues) issues.push({ path: joinPath(`${base}.${key}`, i.path), message: `${describe(i)}; using the default` });
  }
  const salvaged = schema.safeParse(kept);
  return (salvaged.success ? salvaged.data : defaults) as z.output<S>;
}

function checkSection(section: Section, value: Record<string, unknown>, issues: ConfigIssue[]): void {
  if (section === 'retry' && typeof value.baseDelayMs === 'number' && typeof value.maxDelayMs === 'number' && value.baseDelayMs > value.maxDelayMs) {
    issues.push({ path: 'retry.baseDelayMs', message: `is larger than retry.maxDelayMs (${value.maxDelayMs}); using ${value.maxDelayMs}` });
    value.baseDelayMs = value.maxDelayMs;
  }
}

function parseAgents(input: unknown, issues: ConfigIssue[]): AgentConfig[] {
  const byId = new Map<string, AgentConfig>();
  for (const a of BUILTIN_AGENTS) byId.set(a.id, agentSchema.parse(a));
  if (input === undefined || input === null) return [...byId.values()];
  if (!Array.isArray(input)) {
    issues.push({ path: 'agents', message: 'expected a list of agents; using the built-in agents' });
    return [...byId.values()];
  }
  const seen = new Set<string>();
  input.forEach((raw: unknown, index) => {
    const r = agentSchema.safeParse(raw);
    if (!r.success) {
      const id = isRecord(raw) && typeof raw.id === 'string' ? ` ("${raw.id}")` : '';
      const first = r.error.issues[0];
      issues.push({
        path: first ? joinPath(`agents[${index}]`, first.path) : `agents[${index}]`,
        message: `${first ? describe(first) : 'invalid'}; agent${id} ignored`,
      });
      return;
    }
    if (seen.has(r.data.id)) {
      issues.push({ path: `agents[${index}].id`, message: `duplicate agent id "${r.data.id}"; the later one is ignored` });
      return;
    }
    seen.add(r.data.id);
    byId.set(r.data.id, r.data);
  });
  return [...byId.values()];
}

function parseTasks(input: unknown, issues: ConfigIssue[]): Record<string, TaskConfig> {
  const tasks: Record<string, TaskConfig> = {};
  for (const [name, t] of Object.entries(BUILTIN_TASKS)) tasks[name] = taskSchema.parse(t);
  if (input === undefined || input === null) return tasks;
  if (!isRecord(input)) {
    issues.push({ path: 'tasks', message: 'expected an object of task kinds; using the built-in tasks' });
    return tasks;
  }
  for (const [name, raw] of Object.entries(input)) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name) || name === 'auto') {
      issues.push({ path: `tasks.${name}`, message: 'task names are lower-case words (not "auto"); ignored' });
      continue;
    }
    const r = taskSchema.safeParse(raw);
    if (r.success) tasks[name] = { ...tasks[name], ...r.data };
    else issues.push({ path: `tasks.${name}`, message: `${r.error.issues[0] ? describe(r.error.issues[0]) : 'invalid'}; ignored` });
  }
  return tasks;
}

function parseRoutes(input: unknown, agents: AgentConfig[], tasks: Record<string, TaskConfig>, issues: ConfigIssue[]): Record<string, string[]> {
  const known = new Set(agents.map((a) => a.id));
  const routes: Record<string, string[]> = {};
  for (const [task, ids] of Object.entries(BUILTIN_ROUTES)) routes[task] = ids.filter((id) => known.has(id));
  if (input !== undefined && input !== null) {
    if (!isRecord(input)) {
      issues.push({ path: 'routes', message: 'expected an object mapping task kinds to agent ids; using the default routes' });
    } else {
      for (const [task, ids] of Object.entries(input)) {
        if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
          issues.push({ path: `routes.${task}`, message: 'expected a list of agent ids; using the default route' });
          continue;
        }
        const unknown = ids.filter((id) => !known.has(id));
        for (const id of unknown) issues.push({ path: `routes.${task}`, message: `unknown agent "${id}" removed from the route` });
        const valid = [...new Set(ids.filter((id) => known.has(id)))];
        if (valid.length === 0) {
          issues.push({ path: `routes.${task}`, message: 'no known agent left; using the default route' });
          continue;
        }
        routes[task] = valid;
      }
    }
  }
  for (const task of Object.keys(routes)) {
    if (!tasks[task]) tasks[task] = taskSchema.parse({});
  }
  return routes;
}

/** Parses raw settings or a config file: never throws, always returns a usable config. */
export function parseConfig(raw: unknown): ParsedConfig {
  const issues: ConfigIssue[] = [];
  const input = isRecord(raw) ? raw : {};
  if (raw !== undefined && raw !== null && !isRecord(raw)) issues.push({ path: '(root)', message: 'expected an object; using the defaults' });

  const agents = parseAgents(input.agents, issues);
  const tasks = parseTasks(input.tasks, issues);
  const routes = parseRoutes(input.routes, agents, tasks, issues);
  const sections = {} as { [K in Section]: z.output<(typeof SECTIONS)[K]> };
  for (const name of Object.keys(SECTIONS) as Section[]) {
    const value = salvageObject(SECTIONS[name], input[name], name, issues) as Record<string, unknown>;
    checkSection(name, value, issues);
    (sections as Record<string, unknown>)[name] = value;
  }

  let classifierAgent: string | undefined;
  if (input.classifierAgent !== undefined && input.classifierAgent !== null && input.classifierAgent !== '') {
    if (typeof input.classifierAgent === 'string' && agents.some((a) => a.id === input.classifierAgent)) classifierAgent = input.classifierAgent;
    else issues.push({ path: 'classifierAgent', message: 'not a known agent id; local heuristics only' });
  }

  for (const a of agents) {
    if (priceIsUnknown(a)) issues.push({ path: `agents.${a.id}.pricing`, message: unknownPriceMessage(a) });
  }

  return { config: { agents, routes, tasks, ...sections, classifierAgent }, issues };
}

export function defaultConfig(): MaofConfig {
  return parseConfig({}).config;
}

/** Whether an agent needs an API key: local OpenAI-compatible servers usually take none. */
export function agentRequiresKey(agent: AgentConfig): boolean {
  if (agent.requiresKey !== undefined) return agent.requiresKey;
  if (!agent.baseUrl || agent.provider !== 'openai') return true;
  const host = hostOf(agent.baseUrl);
  return host === undefined || !isLoopbackHost(host);
}

const hosts = new Map<string, string | null>();

/** The host name of a base URL, undefined when it does not parse; memoised (every request asks). */
function hostOf(url: string): string | undefined {
  let host = hosts.get(url);
  if (host === undefined) {
    try {
      host = new URL(url).hostname;
    } catch {
      host = null;
    }
    if (hosts.size >= 64) hosts.clear();
    hosts.set(url, host);
  }
  return host ?? undefined;
}

const OFFICIAL_HOSTS: Record<AgentConfig['provider'], string> = { openai: 'api.openai.com', anthropic: 'api.anthropic.com' };

/** Whether the agent talks to the provider's own API (no baseUrl, or the provider's host), not a compatible server. */
export function isOfficialEndpoint(agent: Pick<AgentConfig, 'provider' | 'baseUrl'>): boolean {
  return !agent.baseUrl || hostOf(agent.baseUrl) === OFFICIAL_HOSTS[agent.provider];
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/** Whether the agent talks to its provider's own API: no base URL, or the official host over https. */
function officialEndpoint(agent: AgentConfig): boolean {
  if (!agent.baseUrl) return true;
  return agent.baseUrl.slice(0, 8).toLowerCase() === 'https://' && hostOf(agent.baseUrl) === OFFICIAL_HOSTS[agent.provider];
}

/**
 * Whether the provider-wide key (e.g. "OpenAI (all OpenAI agents)") may be sent to this agent's
 * endpoint: only to the provider itself or a proxy on this machine. Any other base URL needs the
 * agent's own key, so a key never leaks to a third party by configuration. An agent that workspace
 * settings defined or changed gets it only on the official API: a loopback gateway (LiteLLM,
 * Portkey) forwards wherever the request's headers say, and the workspace chose those headers.
 */
export function providerKeyAllowed(agent: AgentConfig): boolean {
  if (agent.fromWorkspace) return officialEndpoint(agent);
  if (!agent.baseUrl) return true;
  const host = hostOf(agent.baseUrl);
  return host !== undefined && (host === OFFICIAL_HOSTS[agent.provider] || isLoopbackHost(host));
}

/**
 * Whether the agent's own key (`agent:<id>`, `secret:<apiKeySecret>`) may be sent: always for the
 * user's own agents; for a workspace-defined or -changed agent only on the official API, since the
 * workspace could reuse the id or the secret name of a key the user set for somewhere else.
 */
export function ownKeyAllowed(agent: AgentConfig): boolean {
  return !agent.fromWorkspace || officialEndpoint(agent);
}

/**
 * An agent MAOF cannot price: no `pricing` of its own, a model the built-in table does not know (a
 * gateway alias, a new model) and an endpoint off this machine, so it may well cost money. Such an
 * agent counts as $0, which would let it pass every budget: while a budget is set, it is refused
 * until `pricing` is written (zero included — then the user said so).
 */
export function priceIsUnknown(agent: AgentConfig): boolean {
  if (agent.pricing || builtInPrice(agent.model)) return false;
  if (!agent.baseUrl) return true;
  const host = hostOf(agent.baseUrl);
  return host === undefined || !isLoopbackHost(host);
}

/** The settings problem and its fix, worded once for the config warning, Diagnose and the CLI. */
export function unknownPriceMessage(agent: Pick<AgentConfig, 'id' | 'model'>): string {
  return `no known price for model "${agent.model}" on a remote endpoint, so its cost counts as $0 and requests to it are refused while a budget is set — set pricing for agent "${agent.id}" (inputPerMTok, outputPerMTok; 0 is allowed)`;
}

/** Whether any spending limit is set: only then does an agent of unknown price stop requests. */
export function budgetIsSet(budget: BudgetPolicy): boolean {
  return budget.monthlyUsd !== undefined || budget.dailyUsd !== undefined || budget.perRequestUsd !== undefined;
}

/** Prices for an agent: its own override, else the built-in table, else zero (local models). */
export function pricingFor(agent: AgentConfig): Pricing {
  return agent.pricing ?? builtInPrice(agent.model) ?? { inputPerMTok: 0, outputPerMTok: 0 };
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
