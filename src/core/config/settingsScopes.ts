// Where each setting comes from decides what it may do: values from the user's own settings are the
// user's; values from a workspace's `.vscode/settings.json` (or a folder's) are the workspace
// author's. This pure module merges the scopes as VS Code does, drops workspace values of
// restricted settings in an untrusted workspace, and names the agents a workspace defined or changed
// — those never receive a key unless they talk to the provider's official API (see `keyPolicy`).
import type { AgentConfig, MaofConfig } from './schema';

/**
 * Settings an untrusted workspace may not set (package.json's `restrictedConfigurations`, without
 * the `maof.` prefix): they choose endpoints, headers, agents and prompts, and spending limits.
 */
export const RESTRICTED_SETTINGS: readonly string[] = ['agents', 'routes', 'tasks', 'classifierAgent', 'context', 'budget', 'cache', 'hedging'];

/** What `WorkspaceConfiguration.inspect(key)` reports (the fields MAOF reads). */
export interface SettingInspection {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export interface ScopeInput {
  /** `inspect()` of each `maof.*` setting, by key without the prefix (`agents`, `routes`, …). */
  inspections: Readonly<Record<string, SettingInspection | undefined>>;
  /** `vscode.workspace.isTrusted`. */
  trusted: boolean;
  /** Keys whose workspace values an untrusted workspace may not set (the manifest's restrictedConfigurations). */
  restricted: ReadonlySet<string>;
}

export interface ScopedSettings {
  /** The effective values to parse: what `get()` would return, minus what was ignored. */
  raw: Record<string, unknown>;
  /** Ids of agents that workspace or folder settings define or change (compared with the user's own). */
  workspaceAgentIds: Set<string>;
  /** Settings (keys without the prefix) whose workspace values were ignored because the workspace is untrusted. */
  ignored: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** VS Code's rule: objects merge key by key (recursively), anything else is replaced. */
function mergeScope(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeScope(out[k], v);
  return out;
}

/** Structural equality of JSON values (settings are JSON); key order does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
}

function agentId(entry: unknown): string | undefined {
  return isPlainObject(entry) && typeof entry.id === 'string' ? entry.id : undefined;
}

/**
 * Agents in the workspace-scoped list that the user's own list does not hold in exactly this form:
 * a new id, a built-in id redefined, or a user agent whose endpoint, headers or anything else the
 * workspace changed.
 */
function workspaceAgents(workspaceList: unknown, userList: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(workspaceList)) return ids;
  const mine = new Map<string, unknown>();
  if (Array.isArray(userList)) for (const a of userList) {
    const id = agentId(a);
    if (id !== undefined && !mine.has(id)) mine.set(id, a);
  }
  for (const a of workspaceList) {
    const id = agentId(a);
    if (id !== undefined && !sameJson(a, mine.get(id))) ids.add(id);
  }
  return ids;
}

export function resolveSettingScopes(input: ScopeInput): ScopedSettings {
  const raw: Record<string, unknown> = {};
  const ignored: string[] = [];
  let workspaceAgentIds = new Set<string>();
  for (const [key, inspection] of Object.entries(input.inspections)) {
    if (!inspection) continue;
    const fromWorkspace = inspection.workspaceValue !== undefined || inspection.workspaceFolderValue !== undefined;
    const blocked = fromWorkspace && !input.trusted && input.restricted.has(key);
    if (blocked) ignored.push(key);
    let value = mergeScope(inspection.defaultValue, inspection.globalValue);
    if (!blocked) value = mergeScope(mergeScope(value, inspection.workspaceValue), inspection.workspaceFolderValue);
    if (value !== undefined) raw[key] = value;
    if (key === 'agents' && fromWorkspace && !blocked) {
      // Arrays are replaced, not merged: the most specific scope's list is the one in effect.
      const list = inspection.workspaceFolderValue !== undefined ? inspection.workspaceFolderValue : inspection.workspaceValue;
      workspaceAgentIds = workspaceAgents(list, inspection.globalValue);
    }
  }
  return { raw, workspaceAgentIds, ignored };
}

/** The parsed config with each workspace-defined agent marked (`fromWorkspace`), for keyPolicy. */
export function markWorkspaceAgents(config: MaofConfig, ids: ReadonlySet<string>): MaofConfig {
  if (ids.size === 0) return config;
  return { ...config, agents: config.agents.map((a): AgentConfig => (ids.has(a.id) ? { ...a, fromWorkspace: true } : a)) };
}
