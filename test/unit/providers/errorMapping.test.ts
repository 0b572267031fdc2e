// Unit tests for the provider error mapping and the Retry-After / rate-limit reset header parser,
// with errors built from the real SDK classes so a change in their shape shows up here.
import assert from 'node:assert/strict';
import * as AnthropicSdk from '@anthropic-ai/sdk';
import * as OpenAISdk from 'openai';
import { MaofError } from '../../../src/core/errors';
import { mapProviderError, parseDurationMs, redactKeyLike, retryAfterFromHeaders, type ProviderErrorContext } from '../../../src/core/providers/errorMapping';

const NOW = Date.UTC(2025, 0, 1, 0, 0, 0);
const openaiCtx: ProviderErrorContext = { provider: 'openai', agentId: 'gpt', now: NOW };
const anthropicCtx: ProviderErrorContext = { provider: 'anthropic', agentId: 'claude', now: NOW };

describe('retryAfterFromHeaders', () => {
  it('reads retry-after-ms', () => {
    assert.equal(retryAfterFromHeaders({ 'retry-after-ms': '250' }, NOW), 250);
  });

  it('reads retry-after in seconds, fractions included', () => {
    assert.equal(retryAfterFromHeaders({ 'retry-after': '7' }, NOW), 7000);
    assert.equal(retryAfterFromHeaders({ 'Retry-After': '1.5' }, NOW), 1500);
  });

  it('reads retry-after as an HTTP date relative to now, and a past date as no wait', () => {
    assert.equal(retryAfterFromHeaders({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, NOW), 30_000);
    assert.equal(retryAfterFromHeaders({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, NOW), 0);
  });

  it('prefers retry-after-ms, the most precise, over retry-after', () => {
    assert.equal(retryAfterFromHeaders({ 'retry-after': '2', 'retry-after-ms': '1234' }, NOW), 1234);
  });

  it("reads OpenAI's x-ratelimit-reset durations", () => {
    assert.equal(retryAfterFromHeaders({ 'x-ratelimit-reset-requests': '1s' }, NOW), 1000);
    assert.equal(retryAfterFromHeaders({ 'x-ratelimit-reset-tokens': '6m0s' }, NOW), 360_000);
    assert.equal(retryAfterFromHeaders({ 'x-ratelimit-reset-requests': '20ms' }, NOW), 20);
  });

  it('waits for the exhausted limit when the remaining headers say which one it is', () => {
    const headers = {
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-remaining-requests': '42',
      'x-ratelimit-reset-tokens': '6m0s',
      'x-ratelimit-remaining-tokens': '0',
    };
    assert.equal(retryAfterFromHeaders(headers, NOW), 360_000);
    assert.equal(retryAfterFromHeaders({ 'x-ratelimit-reset-requests': '120ms', 'x-ratelimit-reset-tokens': '6m0s' }, NOW), 120, 'smallest when unknown');
  });

  it("reads Anthropic's RFC 3339 reset timestamps", () => {
    assert.equal(retryAfterFromHeaders({ 'anthropic-ratelimit-requests-reset': '2025-01-01T00:00:12Z' }, NOW), 12_000);
    const h = new Headers({
      'anthropic-ratelimit-input-tokens-reset': '2025-01-01T00:00:40Z',
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2025-01-01T00:00:02Z',
      'anthropic-ratelimit-requests-remaining': '10',
    });
    assert.equal(retryAfterFromHeaders(h, NOW), 40_000);
  });

  it('works with a fetch Headers object', () => {
    assert.equal(retryAfterFromHeaders(new Headers({ 'Retry-After': '3' }), NOW), 3000);
  });

  it('ignores what it cannot use', () => {
    assert.equal(retryAfterFromHeaders(undefined, NOW), undefined);
    assert.equal(retryAfterFromHeaders({}, NOW), undefined);
    assert.equal(retryAfterFromHeaders({ 'retry-after': 'soon' }, NOW), undefined);
    assert.equal(retryAfterFromHeaders({ 'retry-after': '-5' }, NOW), undefined);
    assert.equal(retryAfterFromHeaders({ 'retry-after': '' , 'retry-after-ms': 'x' }, NOW), undefined);
    assert.equal(retryAfterFromHeaders({ 'x-ratelimit-reset-requests': '1 sec' }, NOW), undefined);
    assert.equal(retryAfterFromHeaders({ 'retry-after': String(3 * 24 * 3600) }, NOW), undefined, 'days is not a retry wait');
    assert.equal(retryAfterFromHeaders({ 'retry-after': 'soon', 'x-ratelimit-reset-requests': '2s' }, NOW), 2000, 'falls through to the next header');
  });
});

describe('parseDurationMs', () => {
  it('parses Go-style durations and plain seconds', () => {
    assert.equal(parseDurationMs('1h2m3.5s'), 3_723_500);
    assert.equal(parseDurationMs('0.5s'), 500);
    assert.equal(parseDurationMs('17'), 17_000);
    assert.equal(parseDurationMs('1x'), undefined);
    assert.equal(parseDurationMs(''), undefined);
  });
});

describe('mapProviderError', () => {
  function assertClean(err: MaofError): void {
    for (const banned of ['http', '127.0.0.1', 'sk-proj-abcdefghijklmnop']) {
      assert.ok(!err.message.includes(banned), `message leaks ${banned}: ${err.message}`);
    }
    assert.ok(!(err.detail ?? '').includes('sk-proj-abcdefghijklmnop'), `detail leaks the key: ${err.detail}`);
  }

  it('maps an OpenAI 429 to RATE_LIMITED with the wait, naming provider, agent and fix', () => {
    const e = new OpenAISdk.RateLimitError(429, { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, undefined, new Headers({ 'retry-after': '2' }));
    const m = mapProviderError(e, openaiCtx);
    assert.equal(m.code, 'RATE_LIMITED');
    assert.equal(m.retryAfterMs, 2000);
    assert.equal(m.status, 429);
    assert.equal(m.message, 'OpenAI is rate-limiting agent "gpt" — MAOF will retry or fall back; lower the agent\'s rateLimit to avoid this.');
    assert.equal(m.agentId, 'gpt');
    assert.equal(m.provider, 'openai');
  });

  it('maps an out-of-quota 429 to OUT_OF_CREDIT (retrying cannot help) naming billing as the fix', () => {
    const e = new OpenAISdk.RateLimitError(429, { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' }, undefined, new Headers());
    const m = mapProviderError(e, openaiCtx);
    assert.equal(m.code, 'OUT_OF_CREDIT');
    assert.equal(m.retryable, false);
    assert.equal(m.fallbackWorthy, true);
    assert.equal(m.countsAgainstBreaker, false);
    assert.match(m.message, /out of credit.*billing/);
  });

  it("maps Anthropic's 400 \"credit balance is too low\" to OUT_OF_CREDIT, not a bad request about the agent's settings", () => {
    const body = { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' } };
    const m = mapProviderError(new AnthropicSdk.BadRequestError(400, body, undefined, new Headers()), anthropicCtx);
    assert.equal(m.code, 'OUT_OF_CREDIT');
    assert.match(m.message, /Anthropic says the account behind agent "claude"'s API key is out of credit/);
    assert.match(m.message, /billing/);
    assert.doesNotMatch(m.message, /maxOutputTokens|invalid/);
  });

  it('maps an Anthropic 401 to AUTH naming the command to run', () => {
    const e = new AnthropicSdk.AuthenticationError(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }, undefined, new Headers());
    const m = mapProviderError(e, anthropicCtx);
    assert.equal(m.code, 'AUTH');
    assert.equal(m.message, 'Anthropic rejected the API key for agent "claude" — run "MAOF: Set API Key".');
  });

  it('maps an overloaded_error sent mid-stream (no HTTP status) to OVERLOADED', () => {
    const e = new AnthropicSdk.APIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, new Headers(), 'overloaded_error');
    assert.equal(mapProviderError(e, anthropicCtx).code, 'OVERLOADED');
  });

  it('tells context-length errors apart from other 400s', () => {
    const vllm = new OpenAISdk.BadRequestError(400, { message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens." }, undefined, new Headers());
    assert.equal(mapProviderError(vllm, openaiCtx).code, 'CONTEXT_TOO_LARGE');
    const limit = new AnthropicSdk.BadRequestError(
      400,
      { type: 'error', error: { type: 'invalid_request_error', message: 'input length and `max_tokens` exceed context limit: 199000 + 8192 > 200000, decrease input length or `max_tokens` and try again' } },
      undefined,
      new Headers(),
    );
    assert.equal(mapProviderError(limit, anthropicCtx).code, 'CONTEXT_TOO_LARGE');
    const maxTokens = new AnthropicSdk.BadRequestError(
      400,
      { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5' } },
      undefined,
      new Headers(),
    );
    assert.equal(mapProviderError(maxTokens, anthropicCtx).code, 'BAD_REQUEST');
  });

  it('maps the remaining statuses', () => {
    const status = (s: number): string => mapProviderError(OpenAISdk.APIError.generate(s, { error: { message: 'x' } }, undefined, new Headers()), openaiCtx).code;
    assert.equal(status(413), 'CONTEXT_TOO_LARGE');
    assert.equal(status(422), 'BAD_REQUEST');
    assert.equal(status(404), 'CONFIG');
    assert.equal(status(409), 'UPSTREAM');
    assert.equal(status(408), 'TIMEOUT');
    assert.equal(status(504), 'UPSTREAM');
    assert.equal(status(529), 'OVERLOADED');
    assert.equal(status(403), 'AUTH');
  });

  it('maps an error sent inside a stream by its type and code, as the same error over HTTP', () => {
    // What the OpenAI SDK throws for a `{"error": {...}}` chunk or an `event: error`: no status.
    const inStream = (error: Record<string, unknown>): string => mapProviderError(new OpenAISdk.APIError(undefined, error, undefined, new Headers()), openaiCtx).code;
    assert.equal(inStream({ message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' }), 'AUTH');
    assert.equal(inStream({ message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }), 'RATE_LIMITED');
    assert.equal(inStream({ message: 'The engine is currently overloaded', type: 'server_error', code: null }), 'OVERLOADED');
    assert.equal(inStream({ message: 'The server had an error', type: 'server_error', code: null }), 'UPSTREAM');
    assert.equal(inStream({ message: 'The model `x` does not exist', type: 'invalid_request_error', code: 'model_not_found' }), 'CONFIG');
    const anthropic = (type: string): string => mapProviderError(new AnthropicSdk.APIError(undefined, { type: 'error', error: { type, message: 'x' } }, undefined, new Headers()), anthropicCtx).code;
    assert.equal(anthropic('authentication_error'), 'AUTH');
    assert.equal(anthropic('overloaded_error'), 'OVERLOADED');
    assert.equal(anthropic('rate_limit_error'), 'RATE_LIMITED');
    assert.equal(anthropic('api_error'), 'UPSTREAM');
  });

  it('names a server behind a baseUrl by its kind, never as the provider itself', () => {
    const e = OpenAISdk.APIError.generate(404, { error: { message: 'model "llama9" not found, try pulling it first', type: 'api_error' } }, undefined, new Headers());
    const local = mapProviderError(e, { ...openaiCtx, agentId: 'local', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama9' });
    assert.equal(local.code, 'CONFIG');
    assert.equal(local.message, 'The OpenAI-compatible server of agent "local" does not know model "llama9" — check the agent\'s model setting (the server lists the models it serves).');
    const official = mapProviderError(e, { ...openaiCtx, baseUrl: 'https://api.openai.com/v1', model: 'gpt-9' });
    assert.ok(official.message.startsWith('OpenAI does not know model "gpt-9"'), official.message);
    const rejected = mapProviderError(new OpenAISdk.AuthenticationError(401, { message: 'bad key' }, undefined, new Headers()), { ...openaiCtx, baseUrl: 'https://openrouter.ai/api/v1' });
    assert.ok(rejected.message.startsWith('The OpenAI-compatible server rejected the API key'), rejected.message);
  });

  it('is CANCELLED only when the caller aborted; an abort of our own is a TIMEOUT', () => {
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(mapProviderError(new OpenAISdk.APIUserAbortError(), { ...openaiCtx, signal: aborted.signal }).code, 'CANCELLED');
    assert.equal(mapProviderError(new AnthropicSdk.APIUserAbortError(), { ...anthropicCtx, signal: new AbortController().signal }).code, 'TIMEOUT');
  });

  it('maps SDK connection timeouts to TIMEOUT and connection failures to NETWORK', () => {
    assert.equal(mapProviderError(new OpenAISdk.APIConnectionTimeoutError(), openaiCtx).code, 'TIMEOUT');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.equal(mapProviderError(new AnthropicSdk.APIConnectionError({ cause: reset }), anthropicCtx).code, 'NETWORK');
    assert.equal(mapProviderError(new TypeError('terminated', { cause: reset }), openaiCtx).code, 'NETWORK');
    assert.equal(mapProviderError(new Error('socket hang up'), openaiCtx).code, 'NETWORK');
  });

  it('maps unparseable replies to a retryable UPSTREAM', () => {
    const m = mapProviderError(new SyntaxError('Unexpected end of JSON input'), openaiCtx);
    assert.equal(m.code, 'UPSTREAM');
    assert.equal(m.retryable, true);
  });

  it('never leaks keys or URLs, in the message or the detail', () => {
    const e = new OpenAISdk.AuthenticationError(
      401,
      { message: 'Incorrect API key provided: sk-proj-abcdefghijklmnop. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', code: 'invalid_api_key' },
      undefined,
      new Headers(),
    );
    const m = mapProviderError(e, openaiCtx);
    assertClean(m);
    assert.match(m.detail ?? '', /HTTP 401/);
    assertClean(mapProviderError(new Error('connect ECONNREFUSED 127.0.0.1:9 with Bearer sk-proj-abcdefghijklmnop'), openaiCtx));
  });

  it('passes a MaofError through, attributed to the agent', () => {
    const m = mapProviderError(new MaofError('BUDGET_EXCEEDED', 'Over budget.'), openaiCtx);
    assert.equal(m.code, 'BUDGET_EXCEEDED');
    assert.equal(m.agentId, 'gpt');
  });

  it('maps anything else to UPSTREAM with a generic message', () => {
    const m = mapProviderError(42, openaiCtx);
    assert.equal(m.code, 'UPSTREAM');
    assert.match(m.detail ?? '', /42/);
  });
});

describe('redactKeyLike', () => {
  it('removes keys, bearer tokens and long opaque tokens', () => {
    const out = redactKeyLike('key sk-ant-api03-AbC123 and Bearer abc.def and api_key=xyz and ' + 'a'.repeat(45));
    assert.ok(!out.includes('AbC123') && !out.includes('abc.def') && !out.includes('xyz') && !out.includes('a'.repeat(45)), out);
  });
});
