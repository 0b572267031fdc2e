// The exact JSON bodies, SSE events, error bodies and headers the OpenAI chat-completions and
// Anthropic messages APIs send, so that the real SDKs parse the simulator as they would parse them.
import type { EmptyReason, Fault, FaultStatus, GatewayErrorStatus, SimProvider, StreamErrorKind } from './faultPlan';
import type { SimulatedReply } from './simulatedReply';
import { splitDeltas } from './simulatedReply';

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json';
export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

export const OPENAI_CONTEXT_WINDOW = 128_000;
export const ANTHROPIC_CONTEXT_WINDOW = 200_000;

export function requestIdHeader(provider: SimProvider): string {
  return provider === 'openai' ? 'x-request-id' : 'request-id';
}

function openaiError(status: number, message: string, type: string, code: string | null, param: string | null = null): WireResponse {
  return { status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ error: { message, type, param, code } }) };
}

function anthropicError(status: number, type: string, message: string, requestId: string): WireResponse {
  return { status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }) };
}

/** Masks a key the way OpenAI does in its 401 message (first and last characters only). */
function maskKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

export function authError(provider: SimProvider, key: string, requestId: string): WireResponse {
  if (provider === 'anthropic') {
    return anthropicError(401, 'authentication_error', key ? 'invalid x-api-key' : 'x-api-key header is required', requestId);
  }
  if (!key) {
    return openaiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      'invalid_request_error',
      null,
    );
  }
  return openaiError(
    401,
    `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    'invalid_request_error',
    'invalid_api_key',
  );
}

export function badRequest(provider: SimProvider, message: string, requestId: string, param: string | null = null): WireResponse {
  return provider === 'openai' ? openaiError(400, message, 'invalid_request_error', null, param) : anthropicError(400, 'invalid_request_error', message, requestId);
}

export function notFound(provider: SimProvider, path: string, requestId: string): WireResponse {
  return provider === 'openai'
    ? openaiError(404, `Invalid URL (${path})`, 'invalid_request_error', null)
    : anthropicError(404, 'not_found_error', `Not found: ${path}`, requestId);
}

/** Parses Go-style durations as OpenAI sends them ("1s", "6m0s", "20ms"); undefined if not one. */
export function parseDurationMs(value: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    if (m.index !== consumed) return undefined;
    consumed += m[0].length;
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return consumed > 0 && consumed === value.length ? total : undefined;
}

function rateLimitHeaders(provider: SimProvider, fault: Extract<Fault, { kind: 'rate_limit' }>, now: number): Record<string, string> {
  const h: Record<string, string> = { 'content-type': JSON_TYPE };
  const explicit = fault.retryAfterS !== undefined || fault.retryAfterMs !== undefined || fault.retryAfterDate !== undefined || fault.resetHeader !== undefined;
  const reset = explicit ? fault.resetHeader : '1s';
  if (!explicit) h['retry-after'] = '1';
  if (fault.retryAfterDate) h['retry-after'] = new Date(now + (fault.retryAfterS ?? 1) * 1000).toUTCString();
  else if (fault.retryAfterS !== undefined) h['retry-after'] = String(fault.retryAfterS);
  if (fault.retryAfterMs !== undefined) h['retry-after-ms'] = String(fault.retryAfterMs);
  if (reset !== undefined) {
    if (provider === 'openai') {
      h['x-ratelimit-limit-requests'] = '500';
      h['x-ratelimit-remaining-requests'] = '0';
      h['x-ratelimit-reset-requests'] = reset;
    } else {
      const ms = parseDurationMs(reset);
      const at = ms !== undefined ? new Date(now + ms).toISOString() : reset;
      h['anthropic-ratelimit-requests-limit'] = '50';
      h['anthropic-ratelimit-requests-remaining'] = '0';
      h['anthropic-ratelimit-requests-reset'] = at;
    }
  }
  return h;
}

const OPENAI_STATUS: Record<FaultStatus, [message: string, type: string, code: string | null]> = {
  400: ['Invalid request (simulated 400).', 'invalid_request_error', null],
  401: ['Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'],
  403: ['Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory'],
  404: ['The model does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found'],
  408: ['Request timed out.', 'timeout', null],
  500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
  502: ['Bad gateway.', 'server_error', null],
  503: ['Service temporarily unavailable.', 'server_error', null],
};

const ANTHROPIC_STATUS: Record<FaultStatus, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request (simulated 400).'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'model: not found'],
  408: ['timeout_error', 'Request timed out'],
  500: ['api_error', 'Internal server error'],
  502: ['api_error', 'Bad gateway'],
  503: ['api_error', 'Service unavailable'],
};

const CLOUDFLARE_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** The error response for a fault that answers with an HTTP error status. */
export function faultResponse(provider: SimProvider, fault: Fault, model: string, promptTokens: number, requestId: string, now: number): WireResponse | undefined {
  switch (fault.kind) {
    case 'rate_limit': {
      const r =
        provider === 'openai'
          ? openaiError(
              429,
              `Rate limit reached for ${model} in organization org-simulated on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again later.`,
              'requests',
              'rate_limit_exceeded',
            )
          : anthropicError(429, 'rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.', requestId);
      return { ...r, headers: rateLimitHeaders(provider, fault, now) };
    }
    case 'overloaded':
      return provider === 'openai'
        ? openaiError(503, 'The engine is currently overloaded, please try again later.', 'server_error', null)
        : anthropicError(529, 'overloaded_error', 'Overloaded', requestId);
    case 'context_length': {
      if (provider === 'openai') {
        const used = Math.max(promptTokens, OPENAI_CONTEXT_WINDOW + 1);
        return openaiError(
          400,
          `This model's maximum context length is ${OPENAI_CONTEXT_WINDOW} tokens. However, your messages resulted in ${used} tokens. Please reduce the length of the messages.`,
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        );
      }
      const used = Math.max(promptTokens, ANTHROPIC_CONTEXT_WINDOW + 1);
      return anthropicError(400, 'invalid_request_error', `prompt is too long: ${used} tokens > ${ANTHROPIC_CONTEXT_WINDOW} maximum`, requestId);
    }
    case 'out_of_credit':
      return provider === 'openai'
        ? openaiError(429, 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'insufficient_quota', 'insufficient_quota')
        : anthropicError(400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.', requestId);
    case 'model_not_found':
      return provider === 'openai'
        ? openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found')
        : anthropicError(404, 'not_found_error', `model: ${model}`, requestId);
    case 'gateway_error': {
      const [type, code, message] = GATEWAY_ERRORS[fault.status];
      const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'x-portkey-provider': provider, 'x-portkey-retry-attempt-count': '0' };
      if (fault.status === 429) headers['retry-after-ms'] = '300';
      return { status: fault.status, headers, body: JSON.stringify({ error: { message: `${provider} error: ${message}`, type, param: null, code }, provider }) };
    }
    case 'stream_error': {
      // A request that does not stream gets the same error over HTTP, with its real status.
      const [status, openaiBody, anthropicBody] = STREAM_ERRORS[fault.error];
      if (provider === 'openai') return { status, headers: { 'content-type': JSON_TYPE, ...(status === 429 ? { 'retry-after': '1' } : {}) }, body: JSON.stringify({ error: openaiBody }) };
      return { status, headers: { 'content-type': JSON_TYPE, ...(status === 429 ? { 'retry-after': '1' } : {}) }, body: JSON.stringify({ type: 'error', error: anthropicBody, request_id: requestId }) };
    }
    case 'status': {
      let r: WireResponse;
      if (provider === 'openai') {
        if (fault.status === 502) r = { status: 502, headers: { 'content-type': 'text/html' }, body: CLOUDFLARE_502 };
        else {
          const [message, type, code] = OPENAI_STATUS[fault.status];
          r = openaiError(fault.status, message, type, code);
        }
      } else {
        const [type, message] = ANTHROPIC_STATUS[fault.status];
        r = anthropicError(fault.status, type, message, requestId);
      }
      if (fault.retryAfterMs !== undefined) {
        r.headers['retry-after-ms'] = String(Math.round(fault.retryAfterMs));
        r.headers['retry-after'] = String(Math.max(1, Math.ceil(fault.retryAfterMs / 1000)));
      }
      return r;
    }
    default:
      return undefined;
  }
}

/** For each in-stream error: its HTTP status when sent over HTTP, and the bodies each API sends. */
const STREAM_ERRORS: Record<StreamErrorKind, [status: number, openai: Record<string, unknown>, anthropic: Record<string, unknown>]> = {
  invalid_api_key: [401, { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' }, { type: 'authentication_error', message: 'invalid x-api-key' }],
  overloaded: [529, { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null }, { type: 'overloaded_error', message: 'Overloaded' }],
  rate_limit: [429, { message: 'Rate limit reached for requests.', type: 'requests', param: null, code: 'rate_limit_exceeded' }, { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit.' }],
  server_error: [500, { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null }, { type: 'api_error', message: 'Internal server error' }],
};

/** What Portkey relays for each status (type and code as the provider sent them, in OpenAI's shape). */
const GATEWAY_ERRORS: Record<GatewayErrorStatus, [type: string | null, code: string | null, message: string]> = {
  401: ['authentication_error', 'invalid_api_key', 'invalid x-api-key'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  429: ['rate_limit_error', null, 'This request would exceed the rate limit for your organization.'],
  500: ['api_error', null, 'Internal server error'],
  529: ['overloaded_error', null, 'Overloaded'],
};

/** The error event a stream ends with for the stream_error fault. */
export function streamErrorEvent(provider: SimProvider, kind: StreamErrorKind, sseEvent: boolean): string {
  const [, openaiBody, anthropicBody] = STREAM_ERRORS[kind];
  if (provider === 'anthropic') return `event: error\ndata: ${JSON.stringify({ type: 'error', error: anthropicBody })}\n\n`;
  return sseEvent ? `event: error\ndata: ${JSON.stringify({ error: openaiBody })}\n\n` : `data: ${JSON.stringify({ error: openaiBody })}\n\n`;
}

// Success bodies and SSE events.

interface ReplyShape {
  id: string;
  model: string;
  reply: SimulatedReply;
  created: number;
  /** Leave `usage` out (the no_usage fault). */
  noUsage?: boolean;
  /** Answer without text (the empty_answer fault). */
  empty?: EmptyReason;
}

const REFUSAL = "I'm sorry, but I can't help with that.";

function openaiUsage(r: SimulatedReply): Record<string, unknown> {
  const prompt = r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: r.outputTokens,
    total_tokens: prompt + r.outputTokens,
    prompt_tokens_details: { cached_tokens: r.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function anthropicUsage(r: SimulatedReply, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: r.inputTokens,
    cache_creation_input_tokens: r.cacheWriteTokens,
    cache_read_input_tokens: r.cacheReadTokens,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/** The id of the simulated tool call of a reply: stable per reply, in each API's own style. */
function toolCallId(provider: SimProvider, s: ReplyShape): string {
  return provider === 'openai' ? `call_${s.id.replace(/[^A-Za-z0-9]/g, '')}` : `toolu_${s.id.replace(/[^A-Za-z0-9]/g, '')}`;
}

export function jsonBody(provider: SimProvider, s: ReplyShape): string {
  const r = s.reply;
  const call = s.empty ? undefined : r.toolCall;
  if (call && provider === 'openai') {
    return JSON.stringify({
      id: s.id,
      object: 'chat.completion',
      created: s.created,
      model: s.model,
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: toolCallId(provider, s), type: 'function', function: { name: call.name, arguments: call.arguments } }] }, logprobs: null, finish_reason: 'tool_calls' }],
      usage: openaiUsage(r),
      service_tier: 'default',
      system_fingerprint: 'fp_simulated',
    });
  }
  if (call) {
    return JSON.stringify({
      id: s.id,
      type: 'message',
      role: 'assistant',
      model: s.model,
      content: [{ type: 'tool_use', id: toolCallId(provider, s), name: call.name, input: JSON.parse(call.arguments) as unknown }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: anthropicUsage(r, r.outputTokens),
    });
  }
  const empty = s.empty;
  if (provider === 'openai') {
    const message =
      empty === 'filtered' ? { role: 'assistant', content: null, refusal: null, annotations: [] }
      : empty === 'refused' ? { role: 'assistant', content: null, refusal: REFUSAL, annotations: [] }
      : { role: 'assistant', content: r.text, refusal: null, annotations: [] };
    const finish = empty === 'filtered' ? 'content_filter' : r.truncated ? 'length' : 'stop';
    return JSON.stringify({
      id: s.id,
      object: 'chat.completion',
      created: s.created,
      model: s.model,
      choices: empty === 'empty' ? [] : [{ index: 0, message, logprobs: null, finish_reason: finish }],
      ...(s.noUsage ? {} : { usage: openaiUsage(r) }),
      service_tier: 'default',
      system_fingerprint: 'fp_simulated',
    });
  }
  const refused = empty === 'filtered' || empty === 'refused';
  return JSON.stringify({
    id: s.id,
    type: 'message',
    role: 'assistant',
    model: s.model,
    content: empty ? [] : [{ type: 'text', text: r.text }],
    stop_reason: refused ? 'refusal' : r.truncated ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    ...(s.noUsage ? {} : { usage: anthropicUsage(r, r.outputTokens) }),
  });
}

function sse(data: string): string {
  return `data: ${data}\n\n`;
}

function anthropicEvent(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

export interface SseScript {
  /** Events before the first text delta (role chunk, message_start...). */
  head: string[];
  /** One event per text delta, in order. */
  deltas: string[];
  /** Finish, usage and end-of-stream events. */
  tail: string[];
}

/** A tool call's arguments in pieces, as the APIs stream them. */
function argumentPieces(args: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 8) out.push(args.slice(i, i + 8));
  return out.length > 0 ? out : [''];
}

function toolCallScript(provider: SimProvider, s: ReplyShape, includeUsage: boolean): SseScript {
  const r = s.reply;
  const call = r.toolCall!;
  const id = toolCallId(provider, s);
  if (provider === 'openai') {
    const usageField = includeUsage ? ',"usage":null' : '';
    const prefix = `{"id":${JSON.stringify(s.id)},"object":"chat.completion.chunk","created":${s.created},"model":${JSON.stringify(s.model)},"system_fingerprint":"fp_simulated","choices":[{"index":0,"delta":`;
    const head = [
      sse(`${prefix}{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}]${usageField}}`),
      sse(`${prefix}{"tool_calls":[{"index":0,"id":${JSON.stringify(id)},"type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}]},"logprobs":null,"finish_reason":null}]${usageField}}`),
    ];
    const deltas = argumentPieces(call.arguments).map((p) => sse(`${prefix}{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(p)}}}]},"logprobs":null,"finish_reason":null}]${usageField}}`));
    const tail = [sse(`${prefix}{},"logprobs":null,"finish_reason":"tool_calls"}]${usageField}}`)];
    if (includeUsage) tail.push(sse(JSON.stringify({ id: s.id, object: 'chat.completion.chunk', created: s.created, model: s.model, system_fingerprint: 'fp_simulated', choices: [], usage: openaiUsage(r) })));
    tail.push('data: [DONE]\n\n');
    return { head, deltas, tail };
  }
  const head = [
    anthropicEvent('message_start', { message: { id: s.id, type: 'message', role: 'assistant', model: s.model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(r, 1) } }),
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'tool_use', id, name: call.name, input: {} } }),
  ];
  const deltas = argumentPieces(call.arguments).map((p) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: p } }));
  const tail = [
    anthropicEvent('content_block_stop', { index: 0 }),
    anthropicEvent('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: r.outputTokens } }),
    anthropicEvent('message_stop', {}),
  ];
  return { head, deltas, tail };
}

export function sseScript(provider: SimProvider, s: ReplyShape, includeUsage: boolean): SseScript {
  const r = s.reply;
  if (r.toolCall && !s.empty) return toolCallScript(provider, s, includeUsage && !s.noUsage);
  const empty = s.empty;
  const pieces = empty ? [] : splitDeltas(r.text);
  const withUsage = includeUsage && !s.noUsage;
  if (provider === 'openai') {
    const usageField = withUsage ? ',"usage":null' : '';
    const prefix = `{"id":${JSON.stringify(s.id)},"object":"chat.completion.chunk","created":${s.created},"model":${JSON.stringify(s.model)},"system_fingerprint":"fp_simulated","choices":[{"index":0,"delta":`;
    const head = [sse(`${prefix}{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]${usageField}}`)];
    const deltas = pieces.map((p) => sse(`${prefix}{"content":${JSON.stringify(p)}},"logprobs":null,"finish_reason":null}]${usageField}}`));
    if (empty === 'refused') deltas.push(sse(`${prefix}{"refusal":${JSON.stringify(REFUSAL)}},"logprobs":null,"finish_reason":null}]${usageField}}`));
    const finish = empty === 'filtered' ? 'content_filter' : r.truncated ? 'length' : 'stop';
    const tail = [sse(`${prefix}{},"logprobs":null,"finish_reason":"${finish}"}]${usageField}}`)];
    if (withUsage) {
      tail.push(
        sse(
          JSON.stringify({ id: s.id, object: 'chat.completion.chunk', created: s.created, model: s.model, system_fingerprint: 'fp_simulated', choices: [], usage: openaiUsage(r) }),
        ),
      );
    }
    tail.push('data: [DONE]\n\n');
    return { head, deltas, tail };
  }
  const startMessage: Record<string, unknown> = { id: s.id, type: 'message', role: 'assistant', model: s.model, content: [], stop_reason: null, stop_sequence: null };
  if (!s.noUsage) startMessage.usage = anthropicUsage(r, 1);
  const refused = empty === 'filtered' || empty === 'refused';
  const head = [
    anthropicEvent('message_start', { message: startMessage }),
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    anthropicEvent('ping', {}),
  ];
  const deltas = pieces.map((p) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }));
  const tail = [
    anthropicEvent('content_block_stop', { index: 0 }),
    anthropicEvent('message_delta', {
      delta: { stop_reason: refused ? 'refusal' : r.truncated ? 'max_tokens' : 'end_turn', stop_sequence: null },
      ...(s.noUsage ? {} : { usage: { output_tokens: r.outputTokens } }),
    }),
    anthropicEvent('message_stop', {}),
  ];
  return { head, deltas, tail };
}

/** An SSE event whose data is not JSON, for the malformed_sse fault. */
export function malformedEvent(provider: SimProvider): string {
  return provider === 'openai' ? 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"oops\n\n' : 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{\n\n';
}

export function modelsBody(provider: SimProvider): string {
  const ids =
    provider === 'openai' ? ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'gpt-5', 'gpt-5-mini', 'o4-mini'] : ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-5'];
  if (provider === 'openai') return JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' })) });
  return JSON.stringify({
    data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' })),
    has_more: false,
    first_id: ids[0],
    last_id: ids[ids.length - 1],
  });
}
