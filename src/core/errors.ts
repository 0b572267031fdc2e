// The one typed error set of MAOF. Every failure the user can see is a MaofError with a stable
// code; `userMessage` names the problem and the fix and never holds an endpoint, a stack or a key.

// The codes themselves live with their words (label, explanation, fix) in the shared vocabulary, so
// the host, the webviews and the CLI name them from one table.
import { ERROR_CODES, type ErrorCode } from '../shared/errorVocabulary';

export { ERROR_CODES, type ErrorCode };

/** Codes worth sending again to the same agent after a wait. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['RATE_LIMITED', 'OVERLOADED', 'TIMEOUT', 'NETWORK', 'UPSTREAM']);

/** Codes after which another agent may still succeed. */
const FALLBACK_WORTHY: ReadonlySet<ErrorCode> = new Set([
  'AUTH',
  'OUT_OF_CREDIT',
  'STALLED',
  'RATE_LIMITED',
  'OVERLOADED',
  'TIMEOUT',
  'NETWORK',
  'UPSTREAM',
  'CIRCUIT_OPEN',
  'CONTEXT_TOO_LARGE',
  'INVALID_OUTPUT',
  'CONFIG',
]);

/** Codes that say something about the agent's health and so count against its breaker. */
// STALLED: an agent that accepts requests and then says nothing is as broken as one that refuses them.
const BREAKER_FAILURE: ReadonlySet<ErrorCode> = new Set(['RATE_LIMITED', 'OVERLOADED', 'TIMEOUT', 'STALLED', 'NETWORK', 'UPSTREAM']);

export interface MaofErrorOptions {
  /** Technical detail for the log channel (keys are redacted by the logger). */
  detail?: string;
  status?: number;
  agentId?: string;
  provider?: string;
  /** Server-requested wait before the next attempt, already parsed from headers. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class MaofError extends Error {
  override readonly name = 'MaofError';
  readonly code: ErrorCode;
  readonly detail?: string;
  readonly status?: number;
  readonly agentId?: string;
  readonly provider?: string;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, userMessage: string, options: MaofErrorOptions = {}) {
    super(userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
    this.status = options.status;
    this.agentId = options.agentId;
    this.provider = options.provider;
    this.retryAfterMs = options.retryAfterMs;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  get fallbackWorthy(): boolean {
    return FALLBACK_WORTHY.has(this.code);
  }

  get countsAgainstBreaker(): boolean {
    return BREAKER_FAILURE.has(this.code);
  }

  /** The same error, attributed to an agent (messages are kept). */
  withAgent(agentId: string, provider?: string): MaofError {
    if (this.agentId === agentId) return this;
    return new MaofError(this.code, this.message, {
      detail: this.detail,
      status: this.status,
      agentId,
      provider: provider ?? this.provider,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
    });
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function cancelledError(): MaofError {
  return new MaofError('CANCELLED', 'Request cancelled.');
}

/** Wraps anything thrown into a MaofError without leaking its message to the user. */
export function toMaofError(err: unknown): MaofError {
  if (err instanceof MaofError) return err;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'APIUserAbortError')) return cancelledError();
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new MaofError('UPSTREAM', 'Something unexpected went wrong in MAOF — see the MAOF log for details.', { detail, cause: err });
}

/**
 * An agent whose price MAOF cannot know (see priceIsUnknown) while a budget is set: a settings
 * problem, refused before anything is sent; the route moves on to its next agent.
 */
export function unknownPriceError(agentId: string, model: string): MaofError {
  return new MaofError('CONFIG', `Agent "${agentId}" has no known price for model "${model}", so MAOF cannot keep it within your budget — set pricing for agent "${agentId}" (0 is allowed).`, { agentId });
}

export function providerLabel(provider: string | undefined): string {
  if (provider === 'anthropic') return 'Anthropic';
  if (provider === 'openai') return 'OpenAI';
  return provider ?? 'The provider';
}

/**
 * Provider messages are written for the moment of failure ("MAOF will retry or fall back"); once
 * every attempt and fallback has failed, the user must read what happened and what to do instead.
 */
export function finalError(error: MaofError): MaofError {
  if (!error.message.includes('MAOF will retry')) return error;
  const message = error.message
    .replace(/ — MAOF will retry or fall back to another agent\.$/, ' — retries and fallbacks did not help; try again in a minute.')
    .replace(/ — MAOF will retry or fall back; (.*)$/, ' — retries and fallbacks did not help; $1')
    .replace(/ — MAOF will retry or fall back\.$/, ' — retries and fallbacks did not help; try again in a minute or see the MAOF log.')
    .replace(/ — MAOF will retry; (.*)$/, ' — retries did not help; $1');
  if (message === error.message) return error;
  return new MaofError(error.code, message, { detail: error.detail, status: error.status, agentId: error.agentId, provider: error.provider, retryAfterMs: error.retryAfterMs, cause: error.cause });
}
