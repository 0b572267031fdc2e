// The simulator's scriptable faults: an ordered plan of steps consumed by matching requests, and a
// seeded chaos knob, so the same script or seed always breaks the same requests.

export type SimProvider = 'openai' | 'anthropic';

export type FaultStatus = 500 | 502 | 503 | 408 | 403 | 401 | 400 | 404;

export type Fault =
  /**
   * 429. Only the headers asked for are sent (none asked: retry-after 1 and a 1 s reset header).
   * `retryAfterDate` sends retry-after as an HTTP date `retryAfterS` (default 1) seconds ahead;
   * `resetHeader` is a duration ("1s", "6m0s"): as is in x-ratelimit-reset-requests for OpenAI,
   * as an RFC 3339 time that far ahead in anthropic-ratelimit-requests-reset for Anthropic.
   */
  | { kind: 'rate_limit'; retryAfterS?: number; retryAfterMs?: number; retryAfterDate?: boolean; resetHeader?: string }
  /** Anthropic 529 overloaded_error; OpenAI 503 "engine is currently overloaded". */
  | { kind: 'overloaded' }
  /**
   * The provider's real body for that status (OpenAI's 502 is Cloudflare's HTML page);
   * `retryAfterMs` adds retry-after-ms / retry-after headers, as servers send with a 503.
   */
  | { kind: 'status'; status: FaultStatus; retryAfterMs?: number }
  | { kind: 'context_length' }
  /** Waits `ms` before the headers, then answers normally. */
  | { kind: 'delay'; ms: number }
  /** Never answers; the request ends when the client gives up (counted as aborted). */
  | { kind: 'hang' }
  /**
   * A stream that sends its opening events (OpenAI's role chunk; Anthropic's message_start) and
   * `afterChunks` (default 0) text deltas, then falls silent with the connection held open until the
   * client gives up; `pingEveryMs` keeps sending what servers send to keep a connection alive
   * (Anthropic `event: ping`, an SSE comment for OpenAI), which is no sign the model works. A request
   * that does not stream is never answered, as with `hang`. Silent for a while and then live is `delay`.
   */
  | { kind: 'silent_after'; afterChunks?: number; pingEveryMs?: number }
  /** The account is out of credit: OpenAI 429 insufficient_quota; Anthropic 400 "Your credit balance is too low…". */
  | { kind: 'out_of_credit' }
  /** Destroys the socket before any response byte. */
  | { kind: 'reset_before' }
  /** Sends the stream's opening events and `afterChunks` (default 1) text deltas, then destroys the socket. */
  | { kind: 'reset_mid_stream'; afterChunks?: number }
  /** A data: line that is not JSON (non-stream: a 200 body that is not JSON). */
  | { kind: 'malformed_sse' }
  /** A 200 whose JSON body (or SSE stream) stops half-way, cleanly. */
  | { kind: 'truncated_json' }
  /** Streams one event every `chunkDelayMs` (non-stream: waits that long before answering). */
  | { kind: 'slow_stream'; chunkDelayMs: number }
  /** Answers in prose even when JSON was asked for. */
  | { kind: 'invalid_output' }
  /** 404: the endpoint does not know the model (OpenAI code model_not_found; Anthropic not_found_error). */
  | { kind: 'model_not_found' }
  /**
   * A 200 stream that sends `afterChunks` (default 1) deltas and then an error inside the stream:
   * OpenAI an `{"error":{…}}` chunk (or, with `sseEvent`, an `event: error` as compatible servers
   * do), Anthropic an `event: error`. A request that does not stream gets the same error over HTTP.
   * `bare`: the error is the stream's only event, as @dwmkerr/mock-llm sends an error of a streamed request.
   */
  | { kind: 'stream_error'; error: StreamErrorKind; afterChunks?: number; sseEvent?: boolean; bare?: boolean }
  /**
   * A 200 without text. `empty`: OpenAI `choices: []`, Anthropic `content: []`; `filtered`: OpenAI
   * content null with finish_reason content_filter; `refused`: OpenAI a `refusal`, Anthropic stop_reason refusal.
   */
  | { kind: 'empty_answer'; reason: EmptyReason }
  /** A normal answer without any `usage` (many compatible servers, and streams without include_usage). */
  | { kind: 'no_usage' }
  /**
   * An error as the Portkey gateway relays it, on either endpoint: an OpenAI-shaped body
   * `{"error":{message,type,param,code},"provider":…}` whose message starts "openai error: " /
   * "anthropic error: " — also on the Anthropic endpoint, where the provider's own shape differs.
   */
  | { kind: 'gateway_error'; status: GatewayErrorStatus };

export type GatewayErrorStatus = 401 | 404 | 429 | 500 | 529;
export const GATEWAY_ERROR_STATUSES: readonly GatewayErrorStatus[] = [401, 404, 429, 500, 529];

export type StreamErrorKind = 'invalid_api_key' | 'overloaded' | 'rate_limit' | 'server_error';
export const STREAM_ERROR_KINDS: readonly StreamErrorKind[] = ['invalid_api_key', 'overloaded', 'rate_limit', 'server_error'];
export type EmptyReason = 'empty' | 'filtered' | 'refused';
export const EMPTY_REASONS: readonly EmptyReason[] = ['empty', 'filtered', 'refused'];

export type FaultKind = Fault['kind'];

export interface FaultMatch {
  provider?: SimProvider;
  model?: string;
  stream?: boolean;
}

export interface FaultStep {
  match?: FaultMatch;
  fault: Fault;
  /** How many matching requests this step breaks (default 1). */
  times?: number;
}

export interface ChaosOptions {
  /** Probability in [0, 1] that a request not covered by the plan gets a random fault. */
  rate: number;
  seed?: number;
  kinds?: FaultKind[];
}

export const FAULT_KINDS: readonly FaultKind[] = [
  'rate_limit',
  'overloaded',
  'status',
  'context_length',
  'delay',
  'hang',
  'silent_after',
  'out_of_credit',
  'reset_before',
  'reset_mid_stream',
  'malformed_sse',
  'truncated_json',
  'slow_stream',
  'invalid_output',
  'model_not_found',
  'stream_error',
  'empty_answer',
  'no_usage',
  'gateway_error',
];

const STATUSES: readonly FaultStatus[] = [500, 502, 503, 408, 403, 401, 400, 404];

/** Faults a resilient client recovers from by retrying: the default chaos mix. */
export const RECOVERABLE_KINDS: readonly FaultKind[] = ['rate_limit', 'overloaded', 'status', 'reset_before'];

/** Small, fast, seedable PRNG (mulberry32): chaos must replay exactly from a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PlannedStep {
  match: FaultMatch;
  fault: Fault;
  remaining: number;
}

export class FaultPlan {
  private steps: PlannedStep[] = [];
  private chaosRate = 0;
  private chaosKinds: readonly FaultKind[] = RECOVERABLE_KINDS;
  private rng: () => number = mulberry32(1);

  plan(steps: FaultStep[]): void {
    this.steps = steps.map((s) => ({ match: s.match ?? {}, fault: s.fault, remaining: s.times ?? 1 }));
  }

  setChaos(opts: ChaosOptions): void {
    this.chaosRate = Math.min(1, Math.max(0, opts.rate));
    this.chaosKinds = opts.kinds && opts.kinds.length > 0 ? [...opts.kinds] : RECOVERABLE_KINDS;
    this.rng = mulberry32(opts.seed ?? 1);
  }

  reset(): void {
    this.steps = [];
    this.chaosRate = 0;
    this.chaosKinds = RECOVERABLE_KINDS;
    this.rng = mulberry32(1);
  }

  pending(): number {
    let n = 0;
    for (const s of this.steps) n += s.remaining;
    return n;
  }

  /** The fault for this request, if any: the first matching plan step, else maybe chaos. */
  next(provider: SimProvider, model: string, stream: boolean): Fault | undefined {
    if (this.steps.length > 0) {
      for (let i = 0; i < this.steps.length; i++) {
        const s = this.steps[i];
        if (!s) continue;
        const m = s.match;
        if ((m.provider !== undefined && m.provider !== provider) || (m.model !== undefined && m.model !== model) || (m.stream !== undefined && m.stream !== stream)) continue;
        if (--s.remaining <= 0) this.steps.splice(i, 1);
        return s.fault;
      }
    }
    if (this.chaosRate <= 0 || this.rng() >= this.chaosRate) return undefined;
    return this.randomFault();
  }

  private pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.rng() * items.length)];
    if (item === undefined) throw new Error('empty choice');
    return item;
  }

  private randomFault(): Fault {
    const kind = this.pick(this.chaosKinds);
    switch (kind) {
      case 'rate_limit':
        return { kind, retryAfterMs: Math.floor(this.rng() * 51) };
      case 'status':
        return { kind, status: this.pick([500, 502, 503] as const) };
      case 'delay':
        return { kind, ms: Math.floor(this.rng() * 50) };
      case 'slow_stream':
        return { kind, chunkDelayMs: 5 };
      case 'reset_mid_stream':
        return { kind, afterChunks: 1 };
      case 'stream_error':
        return { kind, error: this.pick(STREAM_ERROR_KINDS) };
      case 'empty_answer':
        return { kind, reason: this.pick(EMPTY_REASONS) };
      case 'gateway_error':
        return { kind, status: this.pick(GATEWAY_ERROR_STATUSES) };
      default:
        return { kind };
    }
  }
}

// Validation of steps sent over the control API: the simulator takes no dependencies, so by hand.

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optNumber(o: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}.${key} must be a non-negative number`);
  return v;
}

export function parseFault(raw: unknown, where = 'fault'): Fault {
  if (!isRecord(raw) || typeof raw.kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(raw.kind)) {
    throw new Error(`${where}.kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const kind = raw.kind as FaultKind;
  switch (kind) {
    case 'rate_limit': {
      const f: Fault = { kind };
      const s = optNumber(raw, 'retryAfterS', where);
      const ms = optNumber(raw, 'retryAfterMs', where);
      if (s !== undefined) f.retryAfterS = s;
      if (ms !== undefined) f.retryAfterMs = ms;
      if (raw.retryAfterDate !== undefined) {
        if (typeof raw.retryAfterDate !== 'boolean') throw new Error(`${where}.retryAfterDate must be a boolean`);
        f.retryAfterDate = raw.retryAfterDate;
      }
      if (raw.resetHeader !== undefined) {
        if (typeof raw.resetHeader !== 'string' || raw.resetHeader.length > 64) throw new Error(`${where}.resetHeader must be a short string`);
        f.resetHeader = raw.resetHeader;
      }
      return f;
    }
    case 'status': {
      const status = raw.status;
      if (typeof status !== 'number' || !(STATUSES as readonly number[]).includes(status)) throw new Error(`${where}.status must be one of ${STATUSES.join(', ')}`);
      const retryAfterMs = optNumber(raw, 'retryAfterMs', where);
      return retryAfterMs === undefined ? { kind, status: status as FaultStatus } : { kind, status: status as FaultStatus, retryAfterMs };
    }
    case 'delay':
      return { kind, ms: optNumber(raw, 'ms', where) ?? 0 };
    case 'slow_stream':
      return { kind, chunkDelayMs: optNumber(raw, 'chunkDelayMs', where) ?? 10 };
    case 'reset_mid_stream': {
      const after = optNumber(raw, 'afterChunks', where);
      return after === undefined ? { kind } : { kind, afterChunks: Math.floor(after) };
    }
    case 'silent_after': {
      const f: Fault = { kind };
      const after = optNumber(raw, 'afterChunks', where);
      const ping = optNumber(raw, 'pingEveryMs', where);
      if (after !== undefined) f.afterChunks = Math.floor(after);
      if (ping !== undefined && ping > 0) f.pingEveryMs = ping;
      return f;
    }
    case 'stream_error': {
      const error = raw.error;
      if (typeof error !== 'string' || !(STREAM_ERROR_KINDS as readonly string[]).includes(error)) throw new Error(`${where}.error must be one of ${STREAM_ERROR_KINDS.join(', ')}`);
      const f: Fault = { kind, error: error as StreamErrorKind };
      const after = optNumber(raw, 'afterChunks', where);
      if (after !== undefined) f.afterChunks = Math.floor(after);
      for (const flag of ['sseEvent', 'bare'] as const) {
        const v = raw[flag];
        if (v === undefined) continue;
        if (typeof v !== 'boolean') throw new Error(`${where}.${flag} must be a boolean`);
        f[flag] = v;
      }
      return f;
    }
    case 'gateway_error': {
      const status = raw.status;
      if (typeof status !== 'number' || !(GATEWAY_ERROR_STATUSES as readonly number[]).includes(status)) throw new Error(`${where}.status must be one of ${GATEWAY_ERROR_STATUSES.join(', ')}`);
      return { kind, status: status as GatewayErrorStatus };
    }
    case 'empty_answer': {
      const reason = raw.reason ?? 'empty';
      if (typeof reason !== 'string' || !(EMPTY_REASONS as readonly string[]).includes(reason)) throw new Error(`${where}.reason must be one of ${EMPTY_REASONS.join(', ')}`);
      return { kind, reason: reason as EmptyReason };
    }
    default:
      return { kind };
  }
}

export function parseFaultSteps(raw: unknown): FaultStep[] {
  const list = isRecord(raw) && Array.isArray(raw.steps) ? raw.steps : raw;
  if (!Array.isArray(list)) throw new Error('expected a list of fault steps');
  return list.map((item: unknown, i) => {
    const where = `steps[${i}]`;
    if (!isRecord(item)) throw new Error(`${where} must be an object`);
    const step: FaultStep = { fault: parseFault(item.fault, `${where}.fault`) };
    if (item.times !== undefined) {
      if (typeof item.times !== 'number' || !Number.isInteger(item.times) || item.times < 1) throw new Error(`${where}.times must be a positive integer`);
      step.times = item.times;
    }
    if (item.match !== undefined) {
      const m = item.match;
      if (!isRecord(m)) throw new Error(`${where}.match must be an object`);
      const match: FaultMatch = {};
      if (m.provider !== undefined) {
        if (m.provider !== 'openai' && m.provider !== 'anthropic') throw new Error(`${where}.match.provider must be openai or anthropic`);
        match.provider = m.provider;
      }
      if (m.model !== undefined) {
        if (typeof m.model !== 'string') throw new Error(`${where}.match.model must be a string`);
        match.model = m.model;
      }
      if (m.stream !== undefined) {
        if (typeof m.stream !== 'boolean') throw new Error(`${where}.match.stream must be a boolean`);
        match.stream = m.stream;
      }
      step.match = match;
    }
    return step;
  });
}

export function parseChaos(raw: unknown): ChaosOptions {
  if (!isRecord(raw) || typeof raw.rate !== 'number' || !(raw.rate >= 0 && raw.rate <= 1)) throw new Error('chaos.rate must be a number in [0, 1]');
  const opts: ChaosOptions = { rate: raw.rate };
  if (raw.seed !== undefined) {
    if (typeof raw.seed !== 'number' || !Number.isFinite(raw.seed)) throw new Error('chaos.seed must be a number');
    opts.seed = raw.seed;
  }
  if (raw.kinds !== undefined) {
    if (!Array.isArray(raw.kinds) || !raw.kinds.every((k): k is FaultKind => typeof k === 'string' && (FAULT_KINDS as readonly string[]).includes(k))) {
      throw new Error(`chaos.kinds must list kinds among ${FAULT_KINDS.join(', ')}`);
    }
    opts.kinds = raw.kinds;
  }
  return opts;
}
