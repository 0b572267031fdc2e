// What the providers' prompt caches need from a request: Anthropic's per-model minimum cacheable
// prefix, and the cheap length estimate both the adapters and the simulator judge prefixes by.

/**
 * Anthropic caches nothing shorter than this prefix (its prompt-caching docs, as of 2026): a
 * breakpoint below it is ignored, not an error, so an estimate that is a little off costs nothing.
 */
export function anthropicCacheMinimum(model: string): number {
  const m = model.toLowerCase();
  if (/opus-4-[5-9]|opus-4\.[5-9]|haiku-4/.test(m)) return 4096;
  if (/haiku-3|3-haiku|3-5-haiku/.test(m)) return 2048;
  return 1024;
}

/** OpenAI caches prompts of this many tokens and more, in steps of 128 tokens. */
export const OPENAI_CACHE_MINIMUM = 1024;
export const OPENAI_CACHE_STEP = 128;

/** About four characters a token: the estimate the simulator bills and the adapters place breakpoints by. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}
