// The simulator's deterministic "model": the same request always gets the same reply and the same
// token counts, so tests and soak runs can check MAOF's accounting to the token.

export interface PromptMessage {
  role: string;
  text: string;
  /** The message carries tool results (OpenAI `tool` role, Anthropic `tool_result` blocks). */
  toolResult?: boolean;
}

/** A call the simulated model makes to one of the tools the request offered. */
export interface SimulatedToolCall {
  name: string;
  /** The call's input as JSON text (streamed in pieces). */
  arguments: string;
}

export interface SimulatedReply {
  text: string;
  /** True when the reply was cut at max_tokens. */
  truncated: boolean;
  /** Uncached input tokens. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Set when the model calls a tool instead of answering in text (`text` is then empty). */
  toolCall?: SimulatedToolCall;
}

export interface ReplyOptions {
  model: string;
  messages: PromptMessage[];
  maxTokens: number;
  /** The request itself asked for JSON (OpenAI response_format). */
  jsonRequested: boolean;
  /** Fault `invalid_output`: answer in prose even when JSON was asked for. */
  forceProse: boolean;
  /** Anthropic bills prompt-cache writes apart; OpenAI has no such count. */
  cacheWrites: boolean;
  /** Names of the tools the request offered. */
  tools?: string[];
  /** The request requires a tool call (OpenAI tool_choice required, Anthropic any/tool). */
  toolRequired?: boolean;
  /** Tokens of the tool definitions, billed as input. */
  toolTokens?: number;
  /** What the prompt-cache model billed as read and written; `[[cached:N]]` markers win over it. */
  promptCache?: { readTokens: number; writeTokens: number };
}

const FILLER = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const MAX_EXTRA_WORDS = 200_000;
const MARKER = /\[\[(words|cached|cache_write|code):(\d{1,9})\]\]/g;
/**
 * What `[[code:N]]` adds: N TypeScript functions in a fenced block after the prose, so that the
 * chat's code blocks (Copy / Insert / Apply) and code-only answers can be tried against the simulator.
 */
function codeBlock(n: number): string {
  const fns: string[] = [];
  for (let i = 1; i <= Math.min(n, 50); i++) fns.push(`export function simulated${i}(value: number): number {\n  return value + ${i};\n}`);
  return fns.length > 0 ? `\n\n\`\`\`typescript\n${fns.join('\n\n')}\n\`\`\`` : '';
}
const JSON_WORDS = /respond with json/i;
/** `[[tool:NAME]]` or `[[tool:NAME {"json":"input"}]]`: call the offered tool whose name is or contains NAME. */
const TOOL_MARKER = /\[\[tool:([A-Za-z0-9_.-]+)(?:\s+(\{.*?\}))?\]\]/;

function toolCallFor(opts: ReplyOptions, lastUser: PromptMessage | undefined): SimulatedToolCall | undefined {
  const tools = opts.tools ?? [];
  if (tools.length === 0 || !lastUser || lastUser.toolResult) return undefined;
  const m = TOOL_MARKER.exec(lastUser.text);
  if (!m) return opts.toolRequired ? { name: tools[0], arguments: '{}' } : undefined;
  const name = tools.find((t) => t === m[1]) ?? tools.find((t) => t.toLowerCase().includes(m[1].toLowerCase()));
  if (!name) return undefined;
  let args = m[2] ?? '{}';
  try {
    JSON.parse(args);
  } catch {
    args = '{}';
  }
  return { name, arguments: args };
}

/** The estimate the simulator bills: a quarter token per character plus 4 per message. */
export function estimateMessageTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function extraWords(n: number): string {
  if (n <= 0) return '';
  const count = Math.min(n, MAX_EXTRA_WORDS);
  const parts = new Array<string>(count);
  for (let i = 0; i < count; i++) parts[i] = FILLER[i % FILLER.length] ?? 'word';
  return ' ' + parts.join(' ');
}

function echoOf(text: string): string {
  const words = text.replace(MARKER, ' ').split(/\s+/).filter(Boolean).slice(0, 12).join(' ');
  return words.length > 80 ? words.slice(0, 80) : words;
}

export function buildReply(opts: ReplyOptions): SimulatedReply {
  let promptTokens = opts.toolTokens ?? 0;
  let words = 0;
  let cached = -1;
  let cacheWrite = -1;
  let code = 0;
  let lastUser = '';
  let lastTurn: PromptMessage | undefined;
  /** Tool results after the last assistant turn: the model has just been given them. */
  let freshResult: PromptMessage | undefined;
  let wantsJson = opts.jsonRequested;
  for (const m of opts.messages) {
    promptTokens += estimateMessageTokens(m.text);
    if (m.role === 'user' || m.role === 'tool') lastTurn = m;
    if (m.role === 'assistant') freshResult = undefined;
    else if (m.toolResult) freshResult = m;
    if (m.role === 'user' && !m.toolResult) lastUser = m.text;
    if (m.text.includes('[[')) {
      for (const match of m.text.matchAll(MARKER)) {
        const n = Number(match[2]);
        if (match[1] === 'words') words = n;
        else if (match[1] === 'cached') cached = n;
        else if (match[1] === 'code') code = n;
        else cacheWrite = n;
      }
    }
    if (!wantsJson && (m.role === 'system' || m.role === 'user')) {
      wantsJson = (m.text.includes('"summary"') && m.text.includes('"findings"')) || JSON_WORDS.test(m.text);
    }
  }
  // A marker in the prompt scripts the counts (and wins over the cache model, which tests may not want).
  const scripted = cached >= 0 || cacheWrite >= 0;
  cached = Math.min(scripted ? Math.max(0, cached) : (opts.promptCache?.readTokens ?? 0), promptTokens);
  cacheWrite = scripted ? Math.max(0, cacheWrite) : (opts.promptCache?.writeTokens ?? 0);
  cacheWrite = opts.cacheWrites ? Math.min(cacheWrite, promptTokens - cached) : 0;

  const echo = echoOf(lastUser);
  const toolCall = freshResult ? undefined : toolCallFor(opts, lastTurn);
  let text: string;
  if (toolCall) {
    text = '';
  } else if (freshResult) {
    // After a tool ran: say what it returned, so a test can see the result reached the model.
    text = `Simulated ${opts.model} reply: the tool returned: ${echoOf(freshResult.text)}${extraWords(words)}`;
  } else if (wantsJson && !opts.forceProse) {
    text = JSON.stringify({
      summary: `Simulated ${opts.model} analysis: ${echo}`,
      findings: [{ title: 'Simulated finding', severity: 'low', detail: `Deterministic detail${extraWords(words)}` }],
      confidence: 0.8,
    });
  } else {
    text = `Simulated ${opts.model} reply: ${echo}${extraWords(words)}${codeBlock(code)}`;
  }

  let truncated = false;
  const limit = Math.max(0, Math.floor(opts.maxTokens));
  if (estimateTextTokens(text) > limit) {
    text = text.slice(0, limit * 4);
    truncated = true;
  }
  return {
    text,
    truncated,
    inputTokens: promptTokens - cached - cacheWrite,
    outputTokens: toolCall ? estimateTextTokens(toolCall.name + toolCall.arguments) : estimateTextTokens(text),
    cacheReadTokens: cached,
    cacheWriteTokens: cacheWrite,
    ...(toolCall ? { toolCall } : {}),
  };
}

/** Splits a reply into stream deltas of a few words each; they concatenate back to `text`. */
export function splitDeltas(text: string, wordsPerDelta = 4): string[] {
  const out: string[] = [];
  let start = 0;
  let spaces = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 32 && ++spaces === wordsPerDelta) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
      spaces = 0;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
