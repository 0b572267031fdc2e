// A loopback HTTP server that speaks the OpenAI chat-completions and Anthropic messages wire
// formats with a scriptable fault plan and a chaos knob, for tests, benchmarks and demos.
// It binds 127.0.0.1 only and keeps per-request work small: a benchmark drives it at ~1,500 req/s.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultPlan, parseChaos, parseFaultSteps, type ChaosOptions, type Fault, type FaultKind, type FaultStep, type SimProvider } from './faultPlan';
import { buildReply, estimateMessageTokens, type PromptMessage, type SimulatedReply } from './simulatedReply';
import { estimateTokens, OPENAI_CACHE_MINIMUM } from '../core/providers/promptCache';
import { DEFAULT_PROMPT_CACHE_TTL_MS, PromptCacheModel, type PromptSegment } from './promptCacheModel';
import {
  authError,
  badRequest,
  faultResponse,
  jsonBody,
  malformedEvent,
  modelsBody,
  streamErrorEvent,
  notFound,
  requestIdHeader,
  SSE_HEADERS,
  sseScript,
  type WireResponse,
} from './wireFormats';

export type { ChaosOptions, Fault, FaultKind, FaultMatch, FaultStep, SimProvider } from './faultPlan';

export interface SimulatorAddress {
  port: number;
  /** Base URL for the OpenAI SDK (ends in /v1). */
  openaiBaseUrl: string;
  /** Base URL for the Anthropic SDK. */
  anthropicBaseUrl: string;
}

export interface TallyCounts {
  requests: number;
  succeeded: number;
  faulted: number;
  /** The client closed the connection before the simulator finished answering. */
  aborted: number;
  /** Uncached input tokens, as reported in successful responses' usage. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface SimulatorTally extends TallyCounts {
  byModel: Record<string, TallyCounts>;
}

export type RequestOutcome = 'succeeded' | 'faulted' | 'aborted';

export interface RequestLogEntry {
  provider: SimProvider;
  model: string;
  stream: boolean;
  /** HTTP status sent, 0 when no status line was sent. */
  status: number;
  fault?: FaultKind;
  aborted: boolean;
  outcome: RequestOutcome;
  /** Names of the tools the request offered, when it offered any. */
  tools?: string[];
  /** The request carried tool results: what they said, as the simulated model read them. */
  toolResults?: string[];
  /** The tool the simulated model called in its answer. */
  toolCall?: string;
  /** The request as received (its JSON body), for tests that check what an adapter sent. */
  body?: unknown;
}

export interface SimulatorOptions {
  /** The time the prompt cache's TTL runs on (default Date.now): tests pass a fake clock's. */
  now?: () => number;
  /** How long a cached prompt prefix lives unused (default 5 minutes, as both providers). */
  promptCacheTtlMs?: number;
  /** Keep each request's JSON body in the request log (tests that inspect what was sent). */
  keepBodies?: boolean;
}

interface ParsedCall {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number;
  messages: PromptMessage[];
  jsonRequested: boolean;
  tools: string[];
  toolRequired: boolean;
  /** Tokens of the tool definitions (the model reads them as part of the prompt). */
  toolTokens: number;
  /** The prompt's blocks in wire order, for the prompt-cache model. */
  segments: PromptSegment[];
}

interface Exchange {
  provider: SimProvider;
  model: string;
  stream: boolean;
  call?: ParsedCall;
  toolCall?: string;
  res: ServerResponse;
  done: boolean;
  status: number;
  fault?: FaultKind;
  timer?: ReturnType<typeof setTimeout>;
  body?: unknown;
}

const LOG_CAPACITY = 1000;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function zeroCounts(): TallyCounts {
  return { requests: 0, succeeded: 0, faulted: 0, aborted: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of an OpenAI or Anthropic content value: a string or a list of text parts (tool results included). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (isRecord(part) && typeof part.text === 'string') out += part.text;
    else if (isRecord(part) && part.type === 'tool_result') out += contentText(part.content);
  }
  return out;
}

/**
 * The tool-call linkage the real APIs enforce: OpenAI answers 400 when a `tool` message answers no
 * `tool_calls` id of the assistant turn before it; Anthropic when a `tool_result` names no
 * `tool_use` of the previous assistant turn, or a `tool_use` is not answered in the next turn.
 */
export function toolLinkProblem(provider: SimProvider, messages: unknown[]): string | undefined {
  let openIds = new Set<string>();
  for (const m of messages) {
    if (!isRecord(m)) continue;
    if (provider === 'openai') {
      if (m.role === 'assistant') openIds = new Set(Array.isArray(m.tool_calls) ? m.tool_calls.filter(isRecord).map((c) => String(c.id)) : []);
      else if (m.role === 'tool') {
        if (!openIds.has(String(m.tool_call_id))) return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      } else if (openIds.size > 0 && m.role === 'user') {
        return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'.";
      }
      if (m.role === 'tool') openIds.delete(String(m.tool_call_id));
    } else {
      const blocks = Array.isArray(m.content) ? m.content.filter(isRecord) : [];
      if (m.role === 'assistant') {
        if (openIds.size > 0) return `messages: tool_use ids were found without tool_result blocks immediately after: ${[...openIds].join(', ')}`;
        openIds = new Set(blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id)));
      } else if (m.role === 'user') {
        for (const b of blocks) {
          if (b.type === 'tool_result' && !openIds.has(String(b.tool_use_id))) return `messages: unexpected tool_use_id found in tool_result blocks: ${String(b.tool_use_id)}. Each tool_result block must have a corresponding tool_use block in the previous message.`;
        }
        for (const b of blocks) if (b.type === 'tool_result') openIds.delete(String(b.tool_use_id));
        if (openIds.size > 0) return `messages: tool_use ids were found without tool_result blocks immediately after: ${[...openIds].join(', ')}`;
      }
    }
  }
  return undefined;
}

/** The JSON of a wire block as it identifies a prefix: its cache_control marker left out. */
function blockBytes(value: unknown): string {
  return JSON.stringify(value, (k, v: unknown) => (k === 'cache_control' ? undefined : v));
}

function marked(value: unknown): boolean {
  return isRecord(value) && value.cache_control !== undefined;
}

/**
 * The blocks of a prompt in the order the provider reads them (tools, system, messages), each with
 * the tokens up to its end as the simulator bills them (see estimateMessageTokens: a message's
 * blocks share its 4-token overhead, so the count at its last block equals the message's).
 */
function promptSegments(provider: SimProvider, raw: Record<string, unknown>, tools: unknown[]): { segments: PromptSegment[]; toolTokens: number } {
  const segments: PromptSegment[] = [];
  let total = 0;
  for (const t of tools) {
    const text = blockBytes(t);
    total += estimateTokens(text.length);
    segments.push({ text, endTokens: total, breakpoint: marked(t) });
  }
  const toolTokens = total;
  const message = (blocks: unknown[], textOf: (b: unknown) => string, wrap: string): void => {
    let chars = 0;
    const start = total;
    for (const b of blocks) {
      chars += textOf(b).length;
      segments.push({ text: wrap + blockBytes(b), endTokens: start + estimateTokens(chars) + 4, breakpoint: marked(b) });
    }
    total = start + estimateTokens(chars) + 4;
    const last = segments[segments.length - 1];
    if (last && blocks.length > 0) last.endTokens = total;
  };
  // Anthropic reads a string content as one text block: the same prefix either way.
  const blocks = (content: unknown): unknown[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : []);
  if (provider === 'anthropic' && raw.system !== undefined) message(blocks(raw.system), (b) => contentText([b]), 'system:');
  for (const m of Array.isArray(raw.messages) ? raw.messages : []) {
    if (!isRecord(m)) continue;
    if (provider === 'anthropic') {
      message(blocks(m.content), (b) => contentText([b]), `${String(m.role)}:`);
      continue;
    }
    // OpenAI: compared message by message here.
    const { content, ...rest } = m;
    total += estimateTokens(contentText(content).length) + 4;
    segments.push({ text: `${blockBytes(rest)}${blockBytes(content)}`, endTokens: total, breakpoint: false });
  }
  return { segments, toolTokens };
}

function keyOf(provider: SimProvider, req: IncomingMessage): string {
  if (provider === 'anthropic') {
    const k = req.headers['x-api-key'];
    if (typeof k === 'string' && k) return k.trim();
  }
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return '';
}

export class ProviderSimulator {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly faults = new FaultPlan();
  private latencyMs = 0;
  /** Admission-rate mode: a token bucket of `rps` per second (burst `burst`); above it, 429s. */
  private admission: { rps: number; burst: number; tokens: number; at: number } | undefined;
  private counts = zeroCounts();
  private byModel = new Map<string, TallyCounts>();
  private log: RequestLogEntry[] = [];
  private logNext = 0;
  private seq = 0;
  private readonly promptCache: PromptCacheModel;
  private readonly keepBodies: boolean;
  private readonly promptCacheTtlMs: number;

  constructor(opts: SimulatorOptions = {}) {
    this.promptCacheTtlMs = opts.promptCacheTtlMs ?? DEFAULT_PROMPT_CACHE_TTL_MS;
    this.promptCache = new PromptCacheModel(opts.now ?? Date.now, this.promptCacheTtlMs);
    this.keepBodies = opts.keepBodies === true;
  }

  async start(port = 0): Promise<SimulatorAddress> {
    if (this.server) throw new Error('simulator already started');
    const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    server.requestTimeout = 0;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.address();
  }

  address(): SimulatorAddress {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error('simulator not started');
    return { port: addr.port, openaiBaseUrl: `http://127.0.0.1:${addr.port}/v1`, anthropicBaseUrl: `http://127.0.0.1:${addr.port}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Replaces the fault plan: each request takes the first step that matches it. */
  plan(steps: FaultStep[]): void {
    this.faults.plan(steps);
  }

  /** Plan steps not yet consumed (counting `times`). */
  pendingFaults(): number {
    return this.faults.pending();
  }

  setChaos(opts: ChaosOptions): void {
    this.faults.setChaos(opts);
  }

  /**
   * Admits `rps` completions per second (with a burst of `burst`, default a twentieth of a second's
   * worth) and answers the rest 429 with retry-after-ms: the time until the next one would be
   * admitted, as a provider's rate limiter does. undefined switches it off.
   */
  setAdmissionRate(rps: number | undefined, burst?: number): void {
    if (rps === undefined || !(rps > 0)) {
      this.admission = undefined;
      return;
    }
    const b = Math.max(1, burst ?? Math.ceil(rps / 20));
    this.admission = { rps, burst: b, tokens: b, at: Date.now() };
  }

  /** A rate_limit fault when the admission bucket is empty, else takes one token. */
  private admit(): Fault | undefined {
    const a = this.admission;
    if (!a) return undefined;
    const now = Date.now();
    a.tokens = Math.min(a.burst, a.tokens + ((now - a.at) * a.rps) / 1000);
    a.at = now;
    if (a.tokens >= 1) {
      a.tokens -= 1;
      return undefined;
    }
    return { kind: 'rate_limit', retryAfterMs: Math.max(1, Math.ceil(((1 - a.tokens) * 1000) / a.rps)) };
  }

  /** Base latency before every completion's headers. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** How long a cached prompt prefix lives unused. */
  setPromptCacheTtl(ms: number): void {
    this.promptCache.setTtl(ms);
  }

  /** Forgets every cached prompt prefix (as if the TTL had passed). */
  clearPromptCache(): void {
    this.promptCache.clear();
  }

  /** Clears the plan, chaos, latency, tallies, log and prompt cache (its TTL back to the one it started with). */
  reset(): void {
    this.faults.reset();
    this.promptCache.clear();
    this.promptCache.setTtl(this.promptCacheTtlMs);
    this.admission = undefined;
    this.latencyMs = 0;
    this.counts = zeroCounts();
    this.byModel = new Map();
    this.log = [];
    this.logNext = 0;
  }

  tally(): SimulatorTally {
    const byModel: Record<string, TallyCounts> = {};
    for (const [model, c] of this.byModel) byModel[model] = { ...c };
    return { ...this.counts, byModel };
  }

  /** The last `limit` completion requests, oldest first. */
  requestLog(limit = 100): RequestLogEntry[] {
    const ordered = this.log.length < LOG_CAPACITY ? this.log : [...this.log.slice(this.logNext), ...this.log.slice(0, this.logNext)];
    return ordered.slice(Math.max(0, ordered.length - limit)).map((e) => ({ ...e }));
  }

  // ---- request handling ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    if (req.method === 'POST' && path === '/v1/chat/completions') return this.readBody(req, res, (body) => this.completion('openai', req, res, body));
    if (req.method === 'POST' && path === '/v1/messages') return this.readBody(req, res, (body) => this.completion('anthropic', req, res, body));
    if (path.startsWith('/__sim/')) return this.control(req, res, path, q >= 0 ? url.slice(q + 1) : '');
    const provider: SimProvider = req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined ? 'anthropic' : 'openai';
    const rid = this.requestId(provider);
    if (req.method === 'GET' && path === '/v1/models') {
      const key = keyOf(provider, req);
      if (!key || key.startsWith('sk-bad')) return this.send(res, authError(provider, key, rid), provider, rid);
      return this.send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: modelsBody(provider) }, provider, rid);
    }
    req.resume();
    this.send(res, notFound(provider, path, rid), provider, rid);
  }

  private readBody(req: IncomingMessage, res: ServerResponse, then: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end('{"error":{"message":"Request too large","type":"invalid_request_error","param":null,"code":null}}');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size <= MAX_BODY_BYTES) then(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks));
    });
  }

  private requestId(provider: SimProvider): string {
    return `${provider === 'openai' ? 'req_' : 'req_sim'}${(++this.seq).toString(36).padStart(8, '0')}`;
  }

  private send(res: ServerResponse, r: WireResponse, provider: SimProvider, rid: string): void {
    r.headers[requestIdHeader(provider)] = rid;
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  }

  /** `cacheable`: the body is long enough for OpenAI's cache, or marks an Anthropic breakpoint. */
  private parseCall(provider: SimProvider, raw: unknown, cacheable: boolean): ParsedCall | string {
    if (!isRecord(raw)) return 'The request body is not a JSON object.';
    if (typeof raw.model !== 'string' || !raw.model) return provider === 'openai' ? 'you must provide a model parameter' : 'model: Field required';
    if (!Array.isArray(raw.messages) || raw.messages.length === 0) {
      return provider === 'openai' ? "[] is too short - 'messages'" : 'messages: at least one message is required';
    }
    const messages: PromptMessage[] = [];
    if (provider === 'anthropic' && raw.system !== undefined) messages.push({ role: 'system', text: contentText(raw.system) });
    for (const m of raw.messages) {
      if (!isRecord(m) || typeof m.role !== 'string') return 'each message needs a role';
      const toolResult = m.role === 'tool' || (Array.isArray(m.content) && m.content.some((b) => isRecord(b) && b.type === 'tool_result'));
      messages.push({ role: m.role === 'developer' ? 'system' : m.role, text: contentText(m.content), ...(toolResult ? { toolResult } : {}) });
    }
    const linkProblem = toolLinkProblem(provider, raw.messages);
    if (linkProblem) return linkProblem;
    const rawTools = Array.isArray(raw.tools) ? raw.tools.filter(isRecord) : [];
    const tools = Array.isArray(raw.tools)
      ? raw.tools.filter(isRecord).map((t) => (provider === 'openai' ? (isRecord(t.function) ? String(t.function.name) : '') : String(t.name))).filter(Boolean)
      : [];
    const choice = raw.tool_choice;
    const toolRequired = choice === 'required' || (isRecord(choice) && (choice.type === 'any' || choice.type === 'tool' || choice.type === 'function'));
    let maxTokens: number;
    if (provider === 'anthropic') {
      if (typeof raw.max_tokens !== 'number') return 'max_tokens: Field required';
      maxTokens = raw.max_tokens;
    } else {
      const m = raw.max_completion_tokens ?? raw.max_tokens;
      maxTokens = typeof m === 'number' ? m : Number.MAX_SAFE_INTEGER;
    }
    const fmt = raw.response_format;
    const jsonRequested = isRecord(fmt) && (fmt.type === 'json_object' || fmt.type === 'json_schema');
    const includeUsage = isRecord(raw.stream_options) && raw.stream_options.include_usage === true;
    // Most requests (short prompts, benchmarks at full speed) cannot be cached: skip the blocks.
    const { segments, toolTokens } = cacheable
      ? promptSegments(provider, raw, rawTools)
      : { segments: [], toolTokens: rawTools.reduce((n, t) => n + estimateTokens(blockBytes(t).length), 0) };
    return { model: raw.model, stream: raw.stream === true, includeUsage, maxTokens, messages, jsonRequested, tools, toolRequired, toolTokens, segments };
  }

  private completion(provider: SimProvider, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const cacheable = provider === 'openai' ? body.length >= OPENAI_CACHE_MINIMUM * 4 : body.includes('"cache_control"');
    const call = this.parseCall(provider, raw, cacheable);
    const model = typeof call === 'string' ? (isRecord(raw) && typeof raw.model === 'string' ? raw.model : '(unknown)') : call.model;
    const stream = typeof call === 'string' ? isRecord(raw) && raw.stream === true : call.stream;
    const ex: Exchange = { provider, model, stream, res, done: false, status: 0 };
    this.count(model, 'requests');
    res.on('close', () => {
      if (ex.timer) clearTimeout(ex.timer);
      if (!ex.done) this.finish(ex, 'aborted');
    });
    const rid = this.requestId(provider);

    const key = keyOf(provider, req);
    if (!key || key.startsWith('sk-bad')) return this.fail(ex, authError(provider, key, rid), rid);
    if (typeof call === 'string') return this.fail(ex, badRequest(provider, call, rid), rid);
    ex.call = call;
    if (this.keepBodies) ex.body = raw;

    const fault = this.admit() ?? this.faults.next(provider, model, stream);
    if (fault) ex.fault = fault.kind;
    const wait = this.latencyMs + (fault?.kind === 'delay' ? fault.ms : 0) + (fault?.kind === 'slow_stream' && !stream ? fault.chunkDelayMs : 0);
    // Answered only by the client giving up (or stop()).
    if (fault?.kind === 'hang' || (fault?.kind === 'silent_after' && !stream)) return;
    if (wait > 0) ex.timer = setTimeout(() => this.answer(ex, call, fault, rid), wait);
    else this.answer(ex, call, fault, rid);
  }

  private answer(ex: Exchange, call: ParsedCall, fault: Fault | undefined, rid: string): void {
    ex.timer = undefined;
    if (ex.done || ex.res.destroyed) return;
    const { provider } = ex;
    if (fault) {
      if (fault.kind === 'reset_before') {
        this.finish(ex, 'faulted');
        ex.res.socket?.destroy();
        return;
      }
      let promptTokens = 0;
      if (fault.kind === 'context_length') for (const m of call.messages) promptTokens += estimateMessageTokens(m.text);
      // A stream_error on a stream is sent inside it, below; on a plain request, over HTTP.
      const err = fault.kind === 'stream_error' && call.stream ? undefined : faultResponse(provider, fault, call.model, promptTokens, rid, Date.now());
      if (err) return this.fail(ex, err, rid);
    }
    // Billed only for a request that is answered: a refused request reads no prompt.
    const promptCache = this.promptCache.bill(provider, call.model, call.segments);
    const built = buildReply({
      model: call.model,
      messages: call.messages,
      maxTokens: call.maxTokens,
      jsonRequested: call.jsonRequested,
      forceProse: fault?.kind === 'invalid_output',
      cacheWrites: provider === 'anthropic',
      tools: call.tools,
      toolRequired: call.toolRequired,
      toolTokens: call.toolTokens,
      promptCache,
    });
    const empty = fault?.kind === 'empty_answer' ? fault.reason : undefined;
    const reply = empty ? { ...built, text: '', outputTokens: 0 } : built;
    const shape = {
      id: provider === 'openai' ? `chatcmpl-sim${rid}` : `msg_sim${rid}`,
      model: call.model,
      reply,
      created: Math.floor(Date.now() / 1000),
      noUsage: fault?.kind === 'no_usage',
      empty,
    };
    if (reply.toolCall) ex.toolCall = reply.toolCall.name;
    const res = ex.res;
    ex.status = 200;

    if (!call.stream) {
      const text = jsonBody(provider, shape);
      if (fault?.kind === 'truncated_json' || fault?.kind === 'malformed_sse') {
        const cut = fault.kind === 'truncated_json' ? text.slice(0, Math.floor(text.length / 2)) : `{"id": ${text.slice(0, 40)}`;
        res.writeHead(200, { 'content-type': 'application/json', [requestIdHeader(provider)]: rid });
        this.finish(ex, 'faulted');
        res.end(cut);
        return;
      }
      if (fault?.kind === 'reset_mid_stream') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), [requestIdHeader(provider)]: rid });
        this.finish(ex, 'faulted');
        res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', [requestIdHeader(provider)]: rid });
      this.finish(ex, 'succeeded', reply);
      res.end(text);
      return;
    }

    const script = sseScript(provider, shape, call.includeUsage);
    res.writeHead(200, { ...SSE_HEADERS, [requestIdHeader(provider)]: rid });
    switch (fault?.kind) {
      case 'reset_mid_stream': {
        const n = Math.max(0, fault.afterChunks ?? 1);
        this.finish(ex, 'faulted');
        res.write(script.head.join('') + script.deltas.slice(0, n).join(''), () => res.socket?.destroy());
        return;
      }
      case 'stream_error': {
        const n = Math.max(0, fault.afterChunks ?? 1);
        this.finish(ex, 'faulted');
        const before = fault.bare ? '' : script.head.join('') + script.deltas.slice(0, n).join('');
        res.end(before + streamErrorEvent(provider, fault.error, fault.sseEvent === true));
        return;
      }
      case 'malformed_sse':
        this.finish(ex, 'faulted');
        res.end(script.head.join('') + script.deltas.slice(0, 1).join('') + malformedEvent(provider));
        return;
      case 'truncated_json': {
        const all = script.head.join('') + script.deltas.join('') + script.tail.join('');
        this.finish(ex, 'faulted');
        res.end(all.slice(0, Math.floor(all.length / 2)));
        return;
      }
      case 'slow_stream':
        this.drip(ex, [...script.head, ...script.deltas, ...script.tail], fault.chunkDelayMs, reply);
        return;
      case 'silent_after':
        res.write(script.head.join('') + script.deltas.slice(0, Math.max(0, fault.afterChunks ?? 0)).join(''));
        if (fault.pingEveryMs) this.keepAlive(ex, fault.pingEveryMs);
        return;
      default:
        this.finish(ex, 'succeeded', reply);
        res.end(script.head.join('') + script.deltas.join('') + script.tail.join(''));
    }
  }

  /** Keeps a silent stream's connection alive the way servers do, until the client gives up (silent_after). */
  private keepAlive(ex: Exchange, everyMs: number): void {
    const ping = ex.provider === 'anthropic' ? 'event: ping\ndata: {"type": "ping"}\n\n' : ': keep-alive\n\n';
    const step = (): void => {
      ex.timer = undefined;
      if (ex.done || ex.res.destroyed) return;
      ex.res.write(ping);
      ex.timer = setTimeout(step, everyMs);
    };
    ex.timer = setTimeout(step, everyMs);
  }

  /** Sends events one by one with a pause between them (slow_stream). */
  private drip(ex: Exchange, events: string[], delayMs: number, reply: SimulatedReply): void {
    let i = 0;
    const step = (): void => {
      ex.timer = undefined;
      if (ex.done || ex.res.destroyed) return;
      const ev = events[i++];
      if (ev === undefined || i >= events.length) {
        this.finish(ex, 'succeeded', reply);
        ex.res.end(ev);
        return;
      }
      ex.res.write(ev);
      ex.timer = setTimeout(step, delayMs);
    };
    step();
  }

  private fail(ex: Exchange, r: WireResponse, rid: string): void {
    ex.status = r.status;
    this.finish(ex, 'faulted');
    this.send(ex.res, r, ex.provider, rid);
  }

  private count(model: string, field: 'requests'): void {
    this.counts[field]++;
    let m = this.byModel.get(model);
    if (!m) this.byModel.set(model, (m = zeroCounts()));
    m[field]++;
  }

  /** Records the request's one outcome; later calls for the same exchange are ignored. */
  private finish(ex: Exchange, outcome: RequestOutcome, reply?: SimulatedReply): void {
    if (ex.done) return;
    ex.done = true;
    let m = this.byModel.get(ex.model);
    if (!m) this.byModel.set(ex.model, (m = zeroCounts()));
    for (const c of [this.counts, m]) {
      c[outcome]++;
      if (outcome === 'succeeded' && reply) {
        c.inputTokens += reply.inputTokens;
        c.outputTokens += reply.outputTokens;
        c.cacheReadTokens += reply.cacheReadTokens;
        c.cacheWriteTokens += reply.cacheWriteTokens;
      }
    }
    const entry: RequestLogEntry = { provider: ex.provider, model: ex.model, stream: ex.stream, status: ex.status, aborted: outcome === 'aborted', outcome };
    if (ex.fault) entry.fault = ex.fault;
    if (ex.call && ex.call.tools.length > 0) entry.tools = ex.call.tools;
    const results = ex.call?.messages.filter((m) => m.toolResult).map((m) => m.text);
    if (results && results.length > 0) entry.toolResults = results;
    if (ex.toolCall) entry.toolCall = ex.toolCall;
    if (ex.body !== undefined) entry.body = ex.body;
    if (this.log.length < LOG_CAPACITY) this.log.push(entry);
    else {
      this.log[this.logNext] = entry;
      this.logNext = (this.logNext + 1) % LOG_CAPACITY;
    }
  }

  // ---- control API (loopback only) ----

  private control(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    const reply = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      req.resume();
      return reply(403, { error: 'the control API answers loopback clients only' });
    }
    if (req.method === 'GET') {
      req.resume();
      if (path === '/__sim/tally') return reply(200, this.tally());
      if (path === '/__sim/log') {
        const limit = Number(new URLSearchParams(query).get('limit') ?? '100');
        return reply(200, this.requestLog(Number.isFinite(limit) && limit > 0 ? limit : 100));
      }
      return reply(404, { error: `unknown control endpoint ${path}` });
    }
    if (req.method !== 'POST') {
      req.resume();
      return reply(405, { error: 'use GET or POST' });
    }
    this.readBody(req, res, (body) => {
      let value: unknown = undefined;
      try {
        value = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        return reply(400, { error: 'body is not valid JSON' });
      }
      try {
        switch (path) {
          case '/__sim/plan':
            this.plan(parseFaultSteps(value));
            return reply(200, { ok: true, pending: this.pendingFaults() });
          case '/__sim/chaos':
            this.setChaos(parseChaos(value));
            return reply(200, { ok: true });
          case '/__sim/latency': {
            const ms = isRecord(value) ? value.ms : undefined;
            if (typeof ms !== 'number' || !(ms >= 0)) return reply(400, { error: 'latency.ms must be a non-negative number' });
            this.setLatency(ms);
            return reply(200, { ok: true });
          }
          case '/__sim/prompt-cache': {
            const ttl = isRecord(value) ? value.ttlMs : undefined;
            if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl >= 0))) return reply(400, { error: 'prompt-cache.ttlMs must be a non-negative number' });
            if (typeof ttl === 'number') this.setPromptCacheTtl(ttl);
            if (isRecord(value) && value.clear === true) this.clearPromptCache();
            return reply(200, { ok: true });
          }
          case '/__sim/reset':
            this.reset();
            return reply(200, { ok: true });
          default:
            return reply(404, { error: `unknown control endpoint ${path}` });
        }
      } catch (err) {
        return reply(400, { error: err instanceof Error ? err.message : String(err) });
      }
    });
  }
}
