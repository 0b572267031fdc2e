// Writes the extension's manifest contributions (settings schema, commands, menus, keybindings,
// views, the walkthrough) into package.json from the core's config defaults, so the settings UI
// and the zod schema cannot drift apart. Touches only `contributes`, `activationEvents`, `capabilities`, `categories`;
// package.json is re-read right before writing because other keys are edited by others.
//   npx tsx scripts/manifestContributes.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_ROUTES, BUILTIN_TASKS } from '../src/core/config/defaults';
import { breakerSchema, budgetSchema, cacheSchema, contextSchema, deadlinesSchema, hedgingSchema, retrySchema, storageSchema } from '../src/core/config/schema';
import { COMMANDS, LANGUAGE_MODEL_VENDOR, PANELS, PARTICIPANT_ID, VIEW_CONTAINER_ID, VIEWS, type CommandId, type CommandName } from '../src/host/platform/ids';
import { WALKTHROUGH_CONTEXT, WALKTHROUGH_ID } from '../src/host/platform/walkthroughIds';

const root = path.resolve(__dirname, '..');

const int = (description: string, def: number | undefined, minimum: number, maximum?: number): Record<string, unknown> => ({
  type: 'integer',
  minimum,
  ...(maximum !== undefined ? { maximum } : {}),
  ...(def !== undefined ? { default: def } : {}),
  description,
});
const usd = (description: string): Record<string, unknown> => ({ type: 'number', minimum: 0, description });

const retry = retrySchema.parse({});
const breaker = breakerSchema.parse({});
const deadlines = deadlinesSchema.parse({});
const budget = budgetSchema.parse({});
const cache = cacheSchema.parse({});
const context = contextSchema.parse({});
const hedging = hedgingSchema.parse({});
const storage = storageSchema.parse({});

const agentItem = {
  type: 'object',
  required: ['id', 'provider', 'model', 'contextWindow'],
  additionalProperties: false,
  defaultSnippets: [
    {
      label: 'OpenAI-compatible local model (Ollama)',
      body: { id: '${1:llama}', provider: 'openai', model: '${2:llama3.1}', baseUrl: '${3:http://127.0.0.1:11434/v1}', contextWindow: 128000, pricing: { inputPerMTok: 0, outputPerMTok: 0 } },
    },
    { label: 'Anthropic model', body: { id: '${1:claude-opus}', provider: 'anthropic', model: '${2:claude-opus-4-1}', contextWindow: 200000 } },
  ],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', patternErrorMessage: 'Letters, digits, ".", "_", ":" or "-" (at most 64).', description: 'Unique agent id, used in maof.routes. An id equal to a built-in agent (claude-sonnet, claude-haiku, gpt-4.1, gpt-4.1-mini) overrides it.', examples: ['gpt-4.1', 'local-llama'] },
    provider: { type: 'string', enum: ['openai', 'anthropic'], enumDescriptions: ['OpenAI, or any OpenAI-compatible endpoint through baseUrl (Ollama, LM Studio, vLLM, OpenRouter, DeepSeek, LiteLLM, Portkey)', 'Anthropic Messages API'], description: 'Wire format and SDK used for this agent.' },
    model: { type: 'string', minLength: 1, description: 'Model id sent to the provider.', examples: ['gpt-4.1', 'gpt-4.1-mini', 'claude-sonnet-4-5', 'claude-haiku-4-5'] },
    baseUrl: { type: 'string', format: 'uri', pattern: '^https?://', description: 'Endpoint of an OpenAI-compatible server or gateway (http or https). Leave out for the provider\'s own API.', examples: ['http://127.0.0.1:11434/v1', 'https://openrouter.ai/api/v1'] },
    apiKeySecret: { type: 'string', minLength: 1, description: 'Name of this agent\'s own key in secret storage (set it with "MAOF: Set API Key"). Default: the agent\'s own key if set, else its provider\'s key.' },
    apiKeyEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Environment variable the maof CLI reads this agent\'s key from (the editor uses secret storage only).' },
    temperature: { type: 'number', minimum: 0, maximum: 2, description: 'Sampling temperature. 0 makes answers deterministic and cacheable.' },
    maxOutputTokens: int('Most tokens the agent may answer with; also what a request reserves against the budget.', 4096, 1),
    contextWindow: int('Tokens the model reads at most (prompt + context + answer). Context is pruned to fit.', undefined, 1),
    pricing: {
      type: 'object',
      description: 'US dollars per million tokens; overrides the built-in price table.',
      required: ['inputPerMTok', 'outputPerMTok'],
      additionalProperties: false,
      properties: {
        inputPerMTok: usd('Input tokens, $ per million.'),
        outputPerMTok: usd('Output tokens, $ per million.'),
        cacheReadPerMTok: usd('Cached input read, $ per million (default: the input price).'),
        cacheWritePerMTok: usd('Cache write, $ per million (default: the input price).'),
      },
    },
    rateLimit: {
      type: 'object',
      default: {},
      description: 'Requests and tokens per minute for this agent\'s key; requests queue instead of failing.',
      additionalProperties: false,
      properties: { rpm: int('Requests per minute.', undefined, 1), tpm: int('Tokens per minute.', undefined, 1) },
    },
    timeoutMs: int('Milliseconds before one attempt times out.', 120000, 1),
    firstTokenTimeoutMs: int('Milliseconds from sending to the first part of the answer (text, tool call or thinking) before MAOF gives up on this agent and tries the next. 0 turns it off. Leave out to learn it from the agent\'s own answers (maof.deadlines). A value set here applies even when the agent is the last one a request can try.', undefined, 0),
    idleTimeoutMs: int('Milliseconds of silence between two chunks of a streaming answer before MAOF stops waiting. 0 turns it off. Leave out for maof.deadlines.idleMs.', undefined, 0),
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra HTTP headers (e.g. for a gateway). Do not put keys here: use secret storage.' },
    description: { type: 'string', description: 'Shown in agent pickers: what this agent is good at.' },
    toolCalling: { type: 'boolean', default: true, description: 'The model can call tools. Set false for a model that cannot (some local models): MAOF then tells VS Code that routes using it offer no tool calling (agent mode needs it).' },
    imageInput: { type: 'boolean', description: 'The model reads images. Default: yes for Anthropic and OpenAI\'s own API, no for another endpoint (baseUrl).' },
    family: { type: 'string', minLength: 1, description: 'The model family VS Code\'s Chat picks its tuned prompts by (e.g. "gpt-4.1", "claude-sonnet-4"). Default: the model id.' },
    promptCache: { type: 'boolean', default: true, description: 'Within a conversation (chat, chain, agent mode), ask the provider to cache the prompt\'s stable prefix: Anthropic cache breakpoints, OpenAI\'s prompt_cache_key. Cached input costs a tenth (Anthropic) or a half to a quarter (OpenAI) of plain input. Set false for servers that reject unknown fields.' },
    promptCacheKey: { type: 'boolean', default: false, description: 'Also send OpenAI\'s prompt_cache_key to this agent\'s baseUrl (sent to OpenAI\'s own API always). Only for servers that accept it.' },
  },
};

const configuration = {
  title: 'MAOF',
  properties: {
    'maof.agents': {
      type: 'array',
      default: [],
      markdownDescription: 'Agents in addition to the built-in ones (`claude-sonnet`, `claude-haiku`, `gpt-4.1`, `gpt-4.1-mini`); an entry with a built-in id replaces it. API keys are never set here — run **MAOF: Set API Key**.',
      items: agentItem,
    },
    'maof.routes': {
      type: 'object',
      default: BUILTIN_ROUTES,
      markdownDescription: 'For each task kind, the ordered agent ids to try: the first is primary, the rest are fallbacks. Unknown ids are dropped with a warning.',
      additionalProperties: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
    },
    'maof.tasks': {
      type: 'object',
      default: BUILTIN_TASKS,
      markdownDescription: 'Task kinds (`code`, `writing`, `analysis` are built in). Add your own with keywords for the `auto` classifier and a system prompt, and give each a route in `#maof.routes#`.',
      propertyNames: { pattern: '^[a-z][a-z0-9-]{0,31}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          description: { type: 'string', default: '', description: 'What this task is for.' },
          keywords: { type: 'array', items: { type: 'string' }, default: [], description: 'Words that make `auto` pick this task.' },
          systemPrompt: { type: 'string', description: 'System instructions for this task.' },
        },
      },
    },
    'maof.retry': {
      type: 'object',
      default: retry,
      description: 'How MAOF retries an agent after rate limits, overloads, timeouts and server errors before falling back to the next agent.',
      additionalProperties: false,
      properties: {
        maxAttempts: int('Attempts per agent, the first included.', retry.maxAttempts, 1, 20),
        baseDelayMs: int('First backoff delay in milliseconds; doubles each retry.', retry.baseDelayMs, 0),
        maxDelayMs: int('Longest backoff delay in milliseconds.', retry.maxDelayMs, 0),
        maxTotalMs: int('Overall time a request may take, retries and fallbacks included.', retry.maxTotalMs, 1),
        maxRetryAfterMs: int('Longest server-requested wait (retry-after) honoured; a longer one goes to the next agent at once.', retry.maxRetryAfterMs, 0),
        jitter: { type: 'number', minimum: 0, maximum: 1, default: retry.jitter, description: 'Fraction of each delay that is randomised (0 = none, 1 = full jitter).' },
      },
    },
    'maof.breaker': {
      type: 'object',
      default: breaker,
      description: 'Circuit breaker per agent: after repeated failures the agent is paused and skipped, then probed again.',
      additionalProperties: false,
      properties: {
        failureThreshold: int('Consecutive failures that open the breaker.', breaker.failureThreshold, 1),
        failureRateThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Optional: also open when this fraction of the last windowSize calls failed.' },
        windowSize: int('Calls considered for failureRateThreshold.', breaker.windowSize, 2),
        resetTimeoutMs: int('Milliseconds an open breaker waits before letting one probe through.', breaker.resetTimeoutMs, 1),
      },
    },
    'maof.deadlines': {
      type: 'object',
      default: deadlines,
      description: 'Deadlines for agents that go quiet: no first token, or silence between chunks. A missed deadline aborts the attempt and tries the next agent at once; the last agent a request can try is never cut by a learned deadline.',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: deadlines.enabled, description: 'Off: no first-token or idle deadline (an agent\'s own firstTokenTimeoutMs / idleTimeoutMs still apply).' },
        firstTokenMs: int('First-token deadline of an agent that has not answered often enough to learn its own (afterwards: its 95th percentile time to first token × 4, between 8 s and 90 s).', deadlines.firstTokenMs, 1),
        idleMs: int('Milliseconds of silence between two chunks of a streaming answer before MAOF stops waiting.', deadlines.idleMs, 1),
      },
    },
    'maof.budget': {
      type: 'object',
      default: { alertAt: budget.alertAt },
      description: 'Spending limits in US dollars. A request reserves its worst-case cost first and is refused if it could exceed a limit.',
      additionalProperties: false,
      properties: {
        monthlyUsd: usd('Monthly limit (calendar month, UTC).'),
        dailyUsd: usd('Daily limit (UTC day).'),
        perRequestUsd: usd('Most one request may cost.'),
        alertAt: {
          default: budget.alertAt,
          description: 'Fractions of a limit at which MAOF warns (e.g. [0.8] warns at 80 %).',
          anyOf: [
            { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, maxItems: 10 },
          ],
        },
      },
    },
    'maof.storage': {
      type: 'object',
      default: storage,
      scope: 'machine',
      description: 'The one spend ledger and request history shared by every VS Code window, every profile and the maof CLI (SQLite). A changed directory is used after a window reload; MAOF_STATE_DIR wins over it.',
      additionalProperties: false,
      properties: {
        dir: { type: 'string', description: 'The state directory. Empty: the platform\'s (~/.local/state/maof, ~/Library/Application Support/maof, %LOCALAPPDATA%\\maof).' },
        historyMonths: int('Months of request history kept (at least 13 recommended, so a year ago\'s month stays whole).', storage.historyMonths, 1, 240),
      },
    },
    'maof.cache': {
      type: 'object',
      default: cache,
      description: 'Exact-match response cache: identical deterministic requests are answered locally at no cost.',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: cache.enabled, description: 'Use the response cache.' },
        ttlMs: int('Milliseconds an answer stays cached.', cache.ttlMs, 1),
        maxEntries: int('Answers kept at most.', cache.maxEntries, 1, 100000),
        cacheNonDeterministic: { type: 'boolean', default: cache.cacheNonDeterministic, description: 'Also cache requests with temperature > 0 (their answers would otherwise vary).' },
      },
    },
    'maof.context': {
      type: 'object',
      default: context,
      description: 'What the agent sees from the editor: selection, active file, visible editors and open tabs, within a token budget. Secret files are never sent.',
      additionalProperties: false,
      properties: {
        reservedOutputTokens: int("Tokens kept free in each agent's window for the answer (default: the agent's maxOutputTokens).", undefined, 1),
        maxContextTokens: int('Most context tokens sent, whatever the window (cost control).', context.maxContextTokens, 1),
        includeOpenTabs: { type: 'boolean', default: context.includeOpenTabs, description: 'Send documents open in tabs (already loaded ones only).' },
        includeVisibleEditors: { type: 'boolean', default: context.includeVisibleEditors, description: 'Send the other visible editors.' },
        historyTurns: int('Chat turns remembered per session.', context.historyTurns, 0, 200),
        maxFileBytes: int('Files larger than this are never sent.', context.maxFileBytes, 1),
        redactSecrets: { type: 'boolean', default: context.redactSecrets, description: 'Replace key-like strings with a placeholder before anything is sent.' },
        excludeFiles: { type: 'array', items: { type: 'string' }, default: context.excludeFiles, description: 'Extra glob-like patterns of files never sent (.env* and key files are always excluded).' },
      },
    },
    'maof.hedging': {
      type: 'object',
      default: hedging,
      markdownDescription:
        'Opt-in hedging per route: when the first agent of a listed task\'s route has produced nothing by its hedge delay (a percentile of its own measured time to first token), the same request also goes to the route\'s next agent; the first to answer wins and the other is aborted (both are billed for what they used). Capped by a token bucket to a share of requests. Example: `{ "routes": ["code"] }`.',
      additionalProperties: false,
      properties: {
        routes: { type: 'array', items: { type: 'string' }, default: hedging.routes, description: 'Task kinds whose route is hedged (none by default).' },
        percentile: { type: 'number', minimum: 0.5, maximum: 0.999, default: hedging.percentile, description: "The hedge delay: this percentile of the first agent's measured time to first token (it is not hedged before 5 measured answers)." },
        minDelayMs: int('The hedge delay is never shorter than this (ms).', hedging.minDelayMs, 1),
        maxShare: { type: 'number', minimum: 0, maximum: 0.5, default: hedging.maxShare, description: 'Hedges allowed per request on a hedged route, on average (0.03 = 3 %): a slowdown of every agent cannot double the load.' },
        burst: int('Hedges allowed at once after a quiet spell (the token bucket\'s size).', hedging.burst, 0, 100),
      },
    },
    'maof.classifierAgent': {
      type: 'string',
      default: '',
      description: 'Agent that classifies "auto" requests when the local heuristics are unsure (empty: heuristics only).',
    },
  },
};

type Command = { command: CommandId; title: string; category: 'MAOF'; icon?: string };

// Every id of COMMANDS must have its entry here (a missing or misspelt one does not compile); the
// manifest lists them in this order.
const commandTitles: Record<CommandName, { title: string; icon?: string }> = {
  generateCode: { title: 'Generate Code', icon: '$(sparkle)' },
  write: { title: 'Write…' },
  writeDocComment: { title: 'Write Doc Comment' },
  writeCommitMessage: { title: 'Write Commit Message', icon: '$(sparkle)' },
  analyseSelection: { title: 'Analyse Selection' },
  analyseFile: { title: 'Analyse File' },
  askAgent: { title: 'Ask Agent…' },
  compareAgents: { title: 'Compare Agents…' },
  runChain: { title: 'Run Chain…' },
  openChat: { title: 'Open Chat' },
  showDashboard: { title: 'Show Dashboard' },
  showLastRequests: { title: 'Show Last Requests' },
  setApiKey: { title: 'Set API Key' },
  clearApiKey: { title: 'Clear API Key' },
  resetBreakers: { title: 'Reset Circuit Breakers' },
  diagnose: { title: 'Diagnose' },
  exportUsage: { title: 'Export Usage' },
  resetSpendHistory: { title: 'Reset Spend History' },
  useForUtilityModels: { title: 'Use MAOF for Chat Utility Models' },
  stopUsingForUtilityModels: { title: 'Stop Using MAOF for Chat Utility Models' },
  allowAnonymousChat: { title: 'Use VS Code\'s Chat without a Copilot Sign-in' },
  acceptInline: { title: 'Accept Generated Change', icon: '$(check)' },
  rejectInline: { title: 'Reject Generated Change', icon: '$(close)' },
};

const commands: Command[] = (Object.keys(commandTitles) as CommandName[]).map((name) => {
  const { title, icon } = commandTitles[name];
  return { command: COMMANDS[name], title, category: 'MAOF', ...(icon ? { icon } : {}) };
});
/** A `command:` link for markdown (the walkthrough's buttons). */
const commandLink = (name: CommandName): string => `command:${COMMANDS[name]}`;

// The Getting Started walkthrough (Welcome: Open Walkthrough… → Get started with MAOF). Each step
// completes when the user has done it: a context key the extension sets (src/host/walkthrough/walkthrough.ts)
// or the command that does it.
const openAgentsSetting = `command:workbench.action.openSettings?${encodeURIComponent(JSON.stringify(['maof.agents']))}`;
const walkthroughs = [
  {
    id: WALKTHROUGH_ID,
    title: 'Get started with MAOF',
    description: 'Connect a model, generate code, ask the chat and watch spend and retries on the dashboard.',
    steps: [
      {
        id: 'connect',
        title: 'Connect a model',
        description: `Set an OpenAI or Anthropic API key (kept in VS Code's secret storage), or add a local OpenAI-compatible model that needs none.\n[Set API Key](${commandLink('setApiKey')})\n[Add a local model](${openAgentsSetting})`,
        media: { markdown: 'media/walkthrough/connect.md' },
        completionEvents: [`onContext:${WALKTHROUGH_CONTEXT.agentReady}`],
      },
      {
        id: 'generate',
        title: 'Generate code inline',
        description: `Open a file, put the cursor where code should go and describe it. The proposal shows inline with Accept / Reject.\n[Generate Code](${commandLink('generateCode')})`,
        media: { markdown: 'media/walkthrough/generate.md' },
        completionEvents: ['onContext:maof.inlinePending'],
      },
      {
        id: 'chat',
        title: 'Ask the chat',
        description: `Ask a question in the MAOF chat: Auto picks the agent, the answer shows its cost, retries and fallbacks.\n[Open Chat](${commandLink('openChat')})`,
        media: { markdown: 'media/walkthrough/chat.md' },
        completionEvents: [`onContext:${WALKTHROUGH_CONTEXT.chatAnswered}`],
      },
      {
        id: 'dashboard',
        title: 'Open the dashboard',
        description: `Spend against your budget, live retries, circuit breakers, latency and cache savings.\n[Show Dashboard](${commandLink('showDashboard')})`,
        media: { markdown: 'media/walkthrough/dashboard.md' },
        completionEvents: [`onCommand:${COMMANDS.showDashboard}`],
      },
      {
        id: 'nativeChat',
        title: 'Use MAOF in VS Code\'s Chat',
        description: `MAOF's models are in the Chat's model picker. Let the Chat answer without a Copilot sign-in, send its background work (titles, summaries, commit messages) to MAOF's cheap utility route, and let MCP servers sample through MAOF.\n[Chat without a Copilot Sign-in](${commandLink('allowAnonymousChat')})\n[Use MAOF for Chat Utility Models](${commandLink('useForUtilityModels')})`,
        media: { markdown: 'media/walkthrough/nativeChat.md' },
        completionEvents: [`onCommand:${COMMANDS.useForUtilityModels}`],
      },
    ],
  },
];

const contributes = {
  configuration,
  commands,
  menus: {
    commandPalette: [
      { command: COMMANDS.acceptInline, when: 'maof.inlinePending' },
      { command: COMMANDS.rejectInline, when: 'maof.inlinePending' },
      { command: COMMANDS.generateCode, when: 'editorIsOpen' },
      { command: COMMANDS.writeDocComment, when: 'editorIsOpen' },
      { command: COMMANDS.analyseSelection, when: 'editorIsOpen' },
      { command: COMMANDS.analyseFile, when: 'editorIsOpen' },
    ],
    'editor/context': [
      { command: COMMANDS.generateCode, group: 'maof@1', when: 'editorTextFocus && !editorReadonly' },
      { command: COMMANDS.writeDocComment, group: 'maof@2', when: 'editorTextFocus && !editorReadonly' },
      { command: COMMANDS.analyseSelection, group: 'maof@3', when: 'editorHasSelection' },
      { command: COMMANDS.acceptInline, group: 'maof@0', when: 'maof.inlinePending' },
      { command: COMMANDS.rejectInline, group: 'maof@0', when: 'maof.inlinePending' },
    ],
    'scm/title': [{ command: COMMANDS.writeCommitMessage, group: 'navigation', when: 'scmProvider == git' }],
  },
  keybindings: [
    { command: COMMANDS.generateCode, key: 'ctrl+alt+g', mac: 'cmd+alt+g', when: 'editorTextFocus && !editorReadonly' },
    { command: COMMANDS.acceptInline, key: 'alt+enter', when: 'maof.inlinePending && editorTextFocus' },
    { command: COMMANDS.rejectInline, key: 'escape', when: 'maof.inlinePending && editorTextFocus && !suggestWidgetVisible && !inlineSuggestionVisible && !findWidgetVisible && !parameterHintsVisible' },
  ],
  viewsContainers: {
    activitybar: [{ id: VIEW_CONTAINER_ID, title: 'MAOF', icon: 'media/maof.svg' }],
  },
  views: {
    [VIEW_CONTAINER_ID]: [{ type: 'webview', id: VIEWS.chat, name: 'Chat', icon: 'media/maof.svg', contextualTitle: 'MAOF' }],
  },
  // VS Code's native Chat and the Language Model API: MAOF's models (src/host/languageModels).
  languageModelChatProviders: [{ vendor: LANGUAGE_MODEL_VENDOR, displayName: 'MAOF' }],
  chatParticipants: [
    {
      id: PARTICIPANT_ID,
      name: 'maof',
      fullName: 'MAOF',
      description: 'Ask the best agent for the task — with retries, fallbacks and your budget',
      isSticky: false,
      commands: [
        { name: 'compare', description: 'The same question to every agent of its route, side by side with cost and time' },
        { name: 'route', description: 'Which agent would answer now, and why (keys, breakers, windows, budget)' },
        { name: 'diagnose', description: 'MAOF\'s agents, routes, budget and settings problems' },
      ],
    },
  ],
  walkthroughs,
};

const capabilities = {
  untrustedWorkspaces: {
    supported: 'limited',
    description: 'In an untrusted workspace MAOF sends only the selected text unless you agree to send open files, and ignores workspace values of settings that choose endpoints, agents and limits.',
    restrictedConfigurations: ['maof.agents', 'maof.routes', 'maof.tasks', 'maof.classifierAgent', 'maof.context', 'maof.budget', 'maof.cache', 'maof.hedging'],
  },
};

const file = path.join(root, 'package.json');
const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
pkg.categories = ['AI', 'Programming Languages', 'Other'];
// onWebviewPanel: a dashboard left open is restored after a reload through its serializer.
pkg.activationEvents = ['onStartupFinished', `onWebviewPanel:${PANELS.dashboard}`];
pkg.capabilities = capabilities;
pkg.contributes = contributes;
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log(`package.json: ${commands.length} commands, ${Object.keys(configuration.properties).length} settings written.`);
