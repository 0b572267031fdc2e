// Stage 1, validate: a request with nothing to do, binary data or an absurd size is refused
// before anything else runs. Throws BAD_REQUEST or CONTEXT_TOO_LARGE.
import { MaofError } from '../errors';
import type { RequestContext } from './requestContext';

export const MAX_PROMPT_CHARS = 2_000_000;

/** The problem with the request's last user turn, or undefined when it may go on. */
export function validatePrompt(prompt: unknown): MaofError | undefined {
  if (typeof prompt !== 'string' || !/\S/.test(prompt)) return new MaofError('BAD_REQUEST', 'The prompt is empty — type what you want the agent to do.');
  if (prompt.includes('\u0000')) return new MaofError('BAD_REQUEST', 'The prompt contains binary data (NUL bytes) — paste text only.');
  if (prompt.length > MAX_PROMPT_CHARS) return new MaofError('CONTEXT_TOO_LARGE', 'The prompt is over 2 million characters — shorten it or attach the text as context instead.');
  return undefined;
}

export function validate(ctx: RequestContext): void {
  const problem = validatePrompt(ctx.text);
  if (problem) throw problem;
}
