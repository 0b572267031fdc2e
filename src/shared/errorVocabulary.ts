// The words MAOF uses for its error codes and its waits, in one table: a short label for live lines
// and tables, one sentence a user understands, and the fix — the editor's button and the CLI's words.
// The host, both webviews and the CLI read them from here; the core's ErrorCode is this list.

/** The stable error codes of DESIGN.md (core/errors.ts re-exports them). */
export const ERROR_CODES = [
  'AUTH',
  'OUT_OF_CREDIT',
  'RATE_LIMITED',
  'OVERLOADED',
  'TIMEOUT',
  'STALLED',
  'NETWORK',
  'CONTEXT_TOO_LARGE',
  'BAD_REQUEST',
  'CIRCUIT_OPEN',
  'BUDGET_EXCEEDED',
  'INVALID_OUTPUT',
  'CANCELLED',
  'CONFIG',
  'UPSTREAM',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What a button next to a problem may do. The first four keep the order the chat protocol has
 * always named them in (its refusal message lists them).
 */
export const ACTION_IDS = ['setApiKey', 'resetBreakers', 'openSettings', 'showDashboard', 'openBudgetSettings', 'openContextSettings', 'resetSpendHistory'] as const;

export type ActionId = (typeof ACTION_IDS)[number];

export interface EditorAction {
  /** The button's text; for a MAOF command also its title in the command palette. */
  label: string;
  /** A command the manifest contributes, or VS Code's settings editor opened at `args[0]`. */
  command: string;
  args?: readonly string[];
  /** What a terminal user does instead (absent: the action has no CLI counterpart). */
  cli?: string;
}

const SETTINGS = 'workbench.action.openSettings';

export const ACTIONS: Readonly<Record<ActionId, EditorAction>> = {
  setApiKey: { label: 'Set API Key', command: 'maof.setApiKey', cli: "set OPENAI_API_KEY / ANTHROPIC_API_KEY (or the agent's apiKeyEnv)" },
  resetBreakers: { label: 'Reset Circuit Breakers', command: 'maof.resetBreakers', cli: 'run "maof breakers reset"' },
  openSettings: { label: 'Open Settings', command: SETTINGS, args: ['maof'], cli: 'fix the config file (the one --config names, or config.json in the MAOF folder)' },
  showDashboard: { label: 'Show Dashboard', command: 'maof.showDashboard' },
  openBudgetSettings: { label: 'Open Budget Settings', command: SETTINGS, args: ['maof.budget'], cli: 'raise budget.monthlyUsd, dailyUsd or perRequestUsd in the config file' },
  openContextSettings: { label: 'Open Context Settings', command: SETTINGS, args: ['maof.context'], cli: 'shorten the prompt, or use an agent with a larger contextWindow' },
  resetSpendHistory: { label: 'Reset Spend History', command: 'maof.resetSpendHistory', cli: 'repair the state file or move it aside, then run maof again' },
};

export interface ErrorWords {
  /** A few words for a live line or a table cell: "breaker open". */
  label: string;
  /** One sentence on what happened, for someone who has never heard of the code. */
  explanation: string;
  /** The action that fixes it, when the user can do something. */
  fix?: ActionId;
}

/**
 * One word per concept: an agent whose circuit breaker is open is "breaker open" (never "paused",
 * which is what a provider's 429 does to a key); a missing or refused key is one problem with one fix.
 */
export const ERROR_VOCABULARY: Readonly<Record<ErrorCode, ErrorWords>> = {
  AUTH: { label: 'key missing or rejected', explanation: 'The agent has no API key, or its provider refused the key (wrong key, or no access to the model).', fix: 'setApiKey' },
  OUT_OF_CREDIT: { label: 'out of credit', explanation: "The provider refused the agent's key because its account has no credit or quota left, so MAOF skips the agent until its key changes or its breaker is reset; add credit in the provider's billing." },
  RATE_LIMITED: { label: 'rate-limited', explanation: 'The provider asked MAOF to slow down (HTTP 429); MAOF waits as long as it asked, or moves on to another agent.' },
  OVERLOADED: { label: 'overloaded', explanation: 'The provider is too busy to answer right now; this usually passes within a minute.' },
  TIMEOUT: { label: 'timed out', explanation: "The agent took longer than its timeoutMs, or the request ran out of its time (retry.maxTotalMs)." },
  STALLED: { label: 'went silent', explanation: "The agent accepted the request but then sent nothing within its deadline (no first token, or no next chunk), so MAOF stopped waiting and tried the next agent." },
  NETWORK: { label: 'network error', explanation: 'MAOF could not reach the provider, or the connection broke off.' },
  CONTEXT_TOO_LARGE: { label: 'context too large', explanation: "The prompt with its editor context does not fit the agent's context window.", fix: 'openContextSettings' },
  BAD_REQUEST: { label: 'bad request', explanation: 'The request itself cannot be sent as it is (empty, say); trying again will not help, changing it will.' },
  CIRCUIT_OPEN: { label: 'breaker open', explanation: "The agent failed several times in a row, so its circuit breaker is open: MAOF sends it nothing until a short cool-down ends.", fix: 'resetBreakers' },
  BUDGET_EXCEEDED: { label: 'over budget', explanation: 'The request could take spending past a budget limit, so it was not sent.', fix: 'openBudgetSettings' },
  INVALID_OUTPUT: { label: 'invalid output', explanation: 'The agent answered, but without text or not in the shape asked for.' },
  CANCELLED: { label: 'cancelled', explanation: 'The request was stopped before it finished.' },
  CONFIG: { label: 'settings problem', explanation: 'A MAOF setting keeps this agent or route from working (no price, a model the server does not know, an empty route).', fix: 'openSettings' },
  UPSTREAM: { label: 'server error', explanation: 'The server failed while answering; this is usually temporary.' },
};

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_VOCABULARY, code);
}

/** The short label of a code; a code this table does not know is shown as words, never dropped. */
export function errorLabel(code: string): string {
  return isErrorCode(code) ? ERROR_VOCABULARY[code].label : code.toLowerCase().replace(/_/g, ' ');
}

/**
 * The action that fixes an error. `detail` is the error's technical detail: a budget refusal
 * because the state file cannot be read is fixed there, not in the limits.
 */
export function errorFix(code: string, detail?: string): ActionId | undefined {
  if (code === 'BUDGET_EXCEEDED' && detail?.startsWith('state file ')) return 'resetSpendHistory';
  return isErrorCode(code) ? ERROR_VOCABULARY[code].fix : undefined;
}

/** How a core message names an editor fix: `run "MAOF: Set API Key"` (MAOF's own commands only). */
export function paletteFix(action: ActionId): string | undefined {
  const a = ACTIONS[action];
  return a.command.startsWith('maof.') ? `run "MAOF: ${a.label}"` : undefined;
}

// ---- waits ----------------------------------------------------------------------------------------

/** Why a request waits instead of failing (the core's WaitReason is this list). */
export const WAIT_REASONS = ['rate-limit', 'breaker', 'budget'] as const;

export type WaitReason = (typeof WAIT_REASONS)[number];

export interface WaitWords {
  /** Follows "waiting N s": "for the provider’s rate limit". */
  forWhat: string;
  /** Follows the agent's name in a live list: "paused by its provider (429)". */
  state: string;
  /** The error the wait spares the user. */
  code: ErrorCode;
}

export const WAIT_VOCABULARY: Readonly<Record<WaitReason, WaitWords>> = {
  'rate-limit': { forWhat: 'for the provider’s rate limit', state: 'paused by its provider (429)', code: 'RATE_LIMITED' },
  breaker: { forWhat: 'for an open breaker’s cool-down', state: 'waiting: every breaker of the route is open', code: 'CIRCUIT_OPEN' },
  budget: { forWhat: 'for budget held by requests in flight', state: 'waiting for budget held by requests in flight', code: 'BUDGET_EXCEEDED' },
};
