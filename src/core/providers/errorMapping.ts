// Turns whatever the OpenAI or Anthropic SDK (or the socket under it) threw into one MaofError whose
// message names the problem and the fix, and parses the provider's "wait this long" headers.
// SDK errors are recognised by shape, not instanceof, so this module never loads an SDK.
import { MaofError, providerLabel, type ErrorCode } from '../errors';
import { isOfficialEndpoint } from '../config/schema';

export type ProviderKind = 'openai' | 'anthropic';

export interface ProviderErrorContext {
  provider: ProviderKind;
  agentId: string;
  /** Epoch ms, for Retry-After dates and reset timestamps. */
  now: number;
  /**
   * The caller's own cancellation signal. An SDK abort counts as CANCELLED only when it fired;
   * an abort that did not come from it (our stall watchdog) is a TIMEOUT.
   */
  signal?: AbortSignal;
  /** The agent's baseUrl: a server that is not the provider's own is never called by the provider's name. */
  baseUrl?: string;
  /** The model asked for, named when the server does not know it. */
  model?: string;
}

/**
 * Who answered, as the user should read it — the one helper error messages and the chat's status
 * line name a provider with: "OpenAI" / "Anthropic" for the providers' own APIs, "The
 * OpenAI-compatible server" for anything behind a baseUrl (Ollama, a gateway, a mock); `mid` for
 * mid-sentence ("the OpenAI-compatible server"). providerLabel alone names a kind of key.
 */
export function endpointLabel(ctx: Pick<ProviderErrorContext, 'provider' | 'baseUrl'>, position: 'start' | 'mid' = 'start'): string {
  if (isOfficialEndpoint({ provider: ctx.provider, baseUrl: ctx.baseUrl })) return providerLabel(ctx.provider);
  return `${position === 'start' ? 'The' : 'the'} ${providerLabel(ctx.provider)}-compatible server`;
}

export type HeaderSource = Headers | Record<string, string | null | undefined> | undefined;

// ---- Retry-After and rate-limit reset headers ----

const MAX_SENSIBLE_WAIT_MS = 24 * 3_600_000;

function headerGetter(headers: HeaderSource): (name: string) => string | undefined {
  if (!headers) return () => undefined;
  if (typeof (headers as Headers).get === 'function') {
    const h = headers as Headers;
    return (name) => h.get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers as Record<string, string | null | undefined>)) if (typeof v === 'string') lower.set(k.toLowerCase(), v);
  return (name) => lower.get(name);
}

function sensible(ms: number): number | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const clamped = Math.max(0, Math.ceil(ms));
  return clamped <= MAX_SENSIBLE_WAIT_MS ? clamped : undefined;
}

/** "1s", "6m0s", "20ms", "1h2m3.5s" (OpenAI's x-ratelimit-reset-*), or plain seconds. */
export function parseDurationMs(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    if (m.index !== consumed) return undefined;
    consumed += m[0].length;
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return consumed > 0 && consumed === v.length ? total : undefined;
}

/** An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT") or an RFC 3339 timestamp, as ms from now. */
function untilDate(value: string, now: number): number | undefined {
  if (!/^\s*(\d{4}-\d{2}-\d{2}T|[A-Za-z]{3},? )/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at - now;
}

const RESET_HEADERS: ReadonlyArray<[reset: string, remaining: string, parse: 'duration' | 'date']> = [
  ['x-ratelimit-reset-requests', 'x-ratelimit-remaining-requests', 'duration'],
  ['x-ratelimit-reset-tokens', 'x-ratelimit-remaining-tokens', 'duration'],
  ['anthropic-ratelimit-requests-reset', 'anthropic-ratelimit-requests-remaining', 'date'],
  ['anthropic-ratelimit-tokens-reset', 'anthropic-ratelimit-tokens-remaining', 'date'],
  ['anthropic-ratelimit-input-tokens-reset', 'anthropic-ratelimit-input-tokens-remaining', 'date'],
  ['anthropic-ratelimit-output-tokens-reset', 'anthropic-ratelimit-output-tokens-remaining', 'date'],
];

/**
 * The wait the provider asked for, in ms, or undefined when it said nothing usable.
 * An explicit `retry-after-ms` / `retry-after` wins. Otherwise the reset headers decide: when the
 * `remaining` headers show which limits are exhausted, the longest of those (all must reset);
 * else the smallest reset, which is the earliest moment a retry can succeed.
 */
export function retryAfterFromHeaders(headers: HeaderSource, now: number): number | undefined {
  const get = headerGetter(headers);
  const ms = get('retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const v = sensible(Number(ms));
    if (v !== undefined) return v;
  }
  const ra = get('retry-after');
  if (ra !== undefined && ra.trim() !== '') {
    const v = sensible(/^\s*\d+(\.\d+)?\s*$/.test(ra) ? Number(ra) * 1000 : (untilDate(ra, now) ?? Number.NaN));
    if (v !== undefined) return v;
  }
  let smallest: number | undefined;
  let longestExhausted: number | undefined;
  for (const [resetName, remainingName, kind] of RESET_HEADERS) {
    const raw = get(resetName);
    if (raw === undefined) continue;
    const wait = sensible((kind === 'duration' ? parseDurationMs(raw) : untilDate(raw, now)) ?? Number.NaN);
    if (wait === undefined) continue;
    smallest = smallest === undefined ? wait : Math.min(smallest, wait);
    const remaining = get(remainingName);
    if (remaining !== undefined && Number(remaining) <= 0) longestExhausted = longestExhausted === undefined ? wait : Math.max(longestExhausted, wait);
  }
  return longestExhausted ?? smallest;
}

// ---- error shapes ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** What an SDK APIError carries, read by shape (both SDKs are generated by Stainless alike). */
interface ApiErrorShape {
  status?: number;
  headers?: HeaderSource;
  type?: string;
  code?: string;
  apiMessage: string;
}

function apiErrorShape(err: Record<string, unknown>): ApiErrorShape | undefined {
  if (!('status' in err) || !('headers' in err) || !('error' in err)) return undefined;
  const status = typeof err.status === 'number' ? err.status : undefined;
  const body = err.error;
  // OpenAI puts the inner {message,type,code} in `error`; Anthropic the whole {type:'error', error:{...}} body.
  const inner = isRecord(body) && isRecord(body.error) ? body.error : isRecord(body) ? body : undefined;
  const type = str(err.type) ?? str(inner?.type);
  const code = str(err.code) ?? str(err.errorCode) ?? str(inner?.code);
  const apiMessage = str(inner?.message) ?? (typeof body === 'string' ? body : undefined) ?? (err instanceof Error ? err.message : '');
  if (status === undefined && inner === undefined) return undefined; // connection / abort errors
  const headers = err.headers instanceof Headers || isRecord(err.headers) ? (err.headers as HeaderSource) : undefined;
  return { status, headers, type: type === 'error' ? undefined : type, code, apiMessage };
}

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && cur !== undefined && cur !== null; depth++) {
    out.push(cur);
    cur = isRecord(cur) ? cur.cause : undefined;
  }
  return out;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const CREDIT_WORDS = /credit balance is too low|insufficient[_ ](quota|credits?|balance|funds)/i;
const NETWORK_WORDS = /terminated|socket hang up|premature close|other side closed|fetch failed|connection error|network|ECONNRESET|ECONNREFUSED/i;
const CONTEXT_WORDS =
  /context[_ ]length|context window|maximum context|prompt is too long|too many (input )?tokens|reduce the length|exceeds? (the )?context|input length and `?max_tokens`? exceed/i;

function errName(e: unknown): string {
  return isRecord(e) && typeof e.name === 'string' ? e.name : '';
}

function errMessage(e: unknown): string {
  return isRecord(e) && typeof e.message === 'string' ? e.message : typeof e === 'string' ? e : '';
}

function errCode(e: unknown): string {
  return isRecord(e) && typeof e.code === 'string' ? e.code : '';
}

function isUserAbort(err: unknown): boolean {
  const status = isRecord(err) ? err.status : undefined;
  return errName(err) === 'AbortError' || errName(err) === 'APIUserAbortError' || (status === undefined && errMessage(err) === 'Request was aborted.');
}

function isSdkTimeout(err: unknown): boolean {
  const status = isRecord(err) ? err.status : undefined;
  return errName(err) === 'APIConnectionTimeoutError' || (status === undefined && 'headers' in (isRecord(err) ? err : {}) && errMessage(err) === 'Request timed out.');
}

// ---- redaction ----

const KEY_LIKE: ReadonlyArray<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_*.-]{3,}/g, 'sk-***'],
  [/\b(bearer)\s+[^\s"',]+/gi, '$1 ***'],
  [/\b(x-api-key|api[_-]?key|authorization)(["']?\s*[:=]\s*["']?)[^\s"',]+/gi, '$1$2***'],
  [/\b[A-Za-z0-9_-]{40,}\b/g, '***'],
];

/** Removes anything that looks like a key or token, for text bound to a log. */
export function redactKeyLike(text: string): string {
  let out = text;
  for (const [re, sub] of KEY_LIKE) out = out.replace(re, sub);
  return out;
}

function detailOf(label: string, parts: Array<string | number | undefined>, message: string): string {
  const head = parts.filter((p) => p !== undefined && p !== '').join(' ');
  const text = redactKeyLike(message.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim());
  return `${label}${head ? ` ${head}` : ''}: ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
}

// ---- user messages ----

type Variant = 'key' | 'permission' | 'malformed' | 'not_found' | 'model_not_found' | 'stalled' | 'default';

function userMessage(code: ErrorCode, label: string, agent: string, variant: Variant = 'default', model?: string): string {
  const a = `agent "${agent}"`;
  // Mid-sentence, "The OpenAI-compatible server" reads "the OpenAI-compatible server".
  const mid = label.startsWith('The ') ? `the ${label.slice(4)}` : label;
  switch (code) {
    case 'AUTH':
      if (variant === 'permission') return `${label} refused ${a} access to its model — check the API key's permissions, or run "MAOF: Set API Key".`;
      return `${label} rejected the API key for ${a} — run "MAOF: Set API Key".`;
    case 'OUT_OF_CREDIT':
      return `${label} says the account behind ${a}'s API key is out of credit or quota — add credit in the provider's billing settings, or run "MAOF: Set API Key" to use another key; MAOF skips the agent until its key changes or its breaker is reset.`;
    case 'RATE_LIMITED':
      return `${label} is rate-limiting ${a} — MAOF will retry or fall back; lower the agent's rateLimit to avoid this.`;
    case 'OVERLOADED':
      return `${label} is overloaded right now (${a}) — MAOF will retry or fall back to another agent.`;
    case 'TIMEOUT':
      if (variant === 'stalled') return `${label} went silent for longer than ${a}'s timeoutMs — MAOF will retry; raise the agent's timeoutMs if this keeps happening.`;
      return `${label} did not answer ${a} in time — MAOF will retry; raise the agent's timeoutMs if this keeps happening.`;
    case 'NETWORK':
      return `Could not reach ${mid} for ${a} (the connection failed or dropped) — check your network, proxy or the agent's baseUrl.`;
    case 'CONTEXT_TOO_LARGE':
      return `The request is larger than ${a}'s context window — select less code or raise contextWindow.`;
    case 'CONFIG':
      if (variant === 'model_not_found' && model) {
        return label.startsWith('The ')
          ? `${label} of ${a} does not know model "${model}" — check the agent's model setting (the server lists the models it serves).`
          : `${label} does not know model "${model}" (${a}) — check the agent's model setting.`;
      }
      return `${label} does not know the model or endpoint of ${a} — check the agent's model and baseUrl settings.`;
    case 'BAD_REQUEST':
      return `${label} rejected the request from ${a} as invalid — check the agent's model, maxOutputTokens and other settings.`;
    case 'UPSTREAM':
      if (variant === 'malformed') return `${label} sent a broken or incomplete reply to ${a} — MAOF will retry or fall back.`;
      return `${label} had a server error answering ${a} — MAOF will retry or fall back.`;
    case 'CANCELLED':
      return 'Request cancelled.';
    default:
      return `${label} failed for ${a} — see the MAOF log for details.`;
  }
}

function make(code: ErrorCode, ctx: ProviderErrorContext, variant: Variant, detail: string, extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {}): MaofError {
  return new MaofError(code, userMessage(code, endpointLabel(ctx), ctx.agentId, variant, ctx.model), {
    detail,
    status: extra.status,
    agentId: ctx.agentId,
    provider: ctx.provider,
    retryAfterMs: extra.retryAfterMs,
    cause: extra.cause,
  });
}

function fromApiError(e: ApiErrorShape, ctx: ProviderErrorContext, cause: unknown): MaofError {
  const { status, type, code, apiMessage } = e;
  const label = endpointLabel(ctx);
  const detail = detailOf(label, [status !== undefined ? `HTTP ${status}` : 'stream error', type, code], apiMessage);
  const retryAfterMs = e.headers ? retryAfterFromHeaders(e.headers, ctx.now) : undefined;
  const opts = { status, retryAfterMs, cause };
  const overloadedWords = /overloaded/i.test(apiMessage) || code === 'engine_overloaded';

  // An error sent inside a stream has no HTTP status: its type and code decide alone, the same way
  // they decide over HTTP (OpenAI's in-stream invalid key is type invalid_request_error, code invalid_api_key).
  const inStream = status === undefined;
  // Out of credit: OpenAI's 429 insufficient_quota, Anthropic's 400 "Your credit balance is too low…",
  // a 402 or a billing_error. Not a rate limit nor a bad request: the fix is the account's billing.
  if (code === 'insufficient_quota' || type === 'billing_error' || status === 402 || (status !== undefined && status >= 400 && status < 500 && CREDIT_WORDS.test(apiMessage))) {
    return make('OUT_OF_CREDIT', ctx, 'default', detail, opts);
  }
  if (status === 429 || type === 'rate_limit_error' || code === 'rate_limit_exceeded' || (inStream && (type === 'requests' || type === 'tokens'))) {
    return make('RATE_LIMITED', ctx, 'default', detail, opts);
  }
  if (status === 529 || type === 'overloaded_error' || ((inStream || status >= 500) && overloadedWords)) return make('OVERLOADED', ctx, 'default', detail, opts);
  if (status === 401 || type === 'authentication_error' || code === 'invalid_api_key') return make('AUTH', ctx, 'key', detail, opts);
  if (status === 403 || type === 'permission_error') return make('AUTH', ctx, 'permission', detail, opts);
  if (status === 408 || type === 'timeout_error') return make('TIMEOUT', ctx, 'default', detail, opts);
  if (status === 413 || code === 'context_length_exceeded' || ((inStream || (status >= 400 && status < 500)) && CONTEXT_WORDS.test(apiMessage))) {
    return make('CONTEXT_TOO_LARGE', ctx, 'default', detail, opts);
  }
  // The endpoint does not know the model (or the path): a settings problem of this agent, which
  // another agent does not share — so CONFIG, which falls back and never trips the breaker.
  if (code === 'model_not_found' || (status === 404 && /model/i.test(apiMessage))) return make('CONFIG', ctx, 'model_not_found', detail, opts);
  if (status === 404 || type === 'not_found_error') return make('CONFIG', ctx, 'not_found', detail, opts);
  if (inStream && (type === 'api_error' || type === 'server_error')) return make('UPSTREAM', ctx, 'default', detail, opts);
  if (status !== undefined && status >= 400 && status < 500 && status !== 409) return make('BAD_REQUEST', ctx, 'default', detail, opts);
  if (type === 'invalid_request_error') return make('BAD_REQUEST', ctx, 'default', detail, opts);
  return make('UPSTREAM', ctx, 'default', detail, opts);
}

/** Maps anything an adapter caught to a MaofError (never throws, never leaks a key or URL). */
export function mapProviderError(err: unknown, ctx: ProviderErrorContext): MaofError {
  if (err instanceof MaofError) return err.withAgent(ctx.agentId, ctx.provider);
  const label = endpointLabel(ctx);

  if (isUserAbort(err)) {
    if (ctx.signal === undefined || ctx.signal.aborted) {
      return new MaofError('CANCELLED', 'Request cancelled.', { agentId: ctx.agentId, provider: ctx.provider, detail: `${label}: request aborted by the caller`, cause: err });
    }
    return make('TIMEOUT', ctx, 'stalled', `${label}: request aborted by the stall watchdog`, { cause: err });
  }
  if (isSdkTimeout(err)) return make('TIMEOUT', ctx, 'default', `${label}: no response headers within the agent's timeoutMs`, { cause: err });

  if (isRecord(err)) {
    const api = apiErrorShape(err);
    if (api) return fromApiError(api, ctx, err);
  }

  const chain = causeChain(err);
  const text = chain.map((e) => (isRecord(e) ? `${errName(e) || 'Error'}: ${errMessage(e)}${errCode(e) ? ` (${errCode(e)})` : ''}` : `thrown: ${String(e)}`)).join(' <- ');
  const detail = detailOf(label, [], text);
  if (chain.some((e) => TIMEOUT_CODES.has(errCode(e)))) return make('TIMEOUT', ctx, 'default', detail, { cause: err });
  if (chain.some((e) => e instanceof SyntaxError)) return make('UPSTREAM', ctx, 'malformed', detail, { cause: err });
  if (chain.some((e) => NETWORK_CODES.has(errCode(e)) || NETWORK_WORDS.test(errMessage(e)))) return make('NETWORK', ctx, 'default', detail, { cause: err });
  return make('UPSTREAM', ctx, 'default', detail, { cause: err });
}

/** A stream that ended cleanly but before the provider said it was done. */
export function incompleteStreamError(ctx: ProviderErrorContext): MaofError {
  return make('UPSTREAM', ctx, 'malformed', `${endpointLabel(ctx)}: the stream ended before its final event`);
}

/** The call was silent for longer than the agent's timeoutMs (headers or between stream chunks). */
export function stallTimeoutError(ctx: ProviderErrorContext): MaofError {
  return make('TIMEOUT', ctx, 'stalled', `${endpointLabel(ctx)}: no data for longer than the agent's timeoutMs`);
}

/** No key is configured for an agent whose provider needs one. */
export function missingKeyError(ctx: ProviderErrorContext): MaofError {
  return new MaofError('AUTH', `No ${providerLabel(ctx.provider)} API key is set for agent "${ctx.agentId}" — run "MAOF: Set API Key".`, {
    agentId: ctx.agentId,
    provider: ctx.provider,
    detail: `${providerLabel(ctx.provider)}: empty API key`,
  });
}
