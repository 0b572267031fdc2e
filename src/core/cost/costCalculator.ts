// Turns token usage into US dollars, estimates the worst case a request may cost before it is
// sent, and formats amounts for people. Sums of money go through integer nano-dollars.
import type { Usage } from '../types';
import type { Pricing } from './priceTable';

const PER_MTOK = 1_000_000;
const NANO_PER_USD = 1_000_000_000;

/** Rounds away binary noise (0.1 + 0.2) without losing any amount a provider can bill. */
function tidy(usd: number): number {
  return Math.round(usd * 1e12) / 1e12;
}

/** What the provider bills for `usage`. Cache reads and writes fall back to the input price. */
export function costOf(usage: Usage, pricing: Pricing): number {
  const readPrice = pricing.cacheReadPerMTok ?? pricing.inputPerMTok;
  const writePrice = pricing.cacheWritePerMTok ?? pricing.inputPerMTok;
  const micro =
    usage.inputTokens * pricing.inputPerMTok +
    usage.cacheReadTokens * readPrice +
    usage.cacheWriteTokens * writePrice +
    usage.outputTokens * pricing.outputPerMTok;
  return tidy(micro / PER_MTOK);
}

/**
 * What the provider's prompt cache saved on `usage` against the same tokens as plain input: reads
 * at their discount, less the premium cache writes cost (negative on a turn that only wrote).
 */
export function promptCacheSavingsUsd(usage: Usage, pricing: Pricing): number {
  const readPrice = pricing.cacheReadPerMTok ?? pricing.inputPerMTok;
  const writePrice = pricing.cacheWritePerMTok ?? pricing.inputPerMTok;
  return tidy((usage.cacheReadTokens * (pricing.inputPerMTok - readPrice) - usage.cacheWriteTokens * (writePrice - pricing.inputPerMTok)) / PER_MTOK);
}

/** The most a request can cost: every input token at the full input price plus the whole output allowance. */
export function worstCaseCost(inputTokens: number, maxOutputTokens: number, pricing: Pricing): number {
  return tidy((inputTokens * pricing.inputPerMTok + maxOutputTokens * pricing.outputPerMTok) / PER_MTOK);
}

export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD;
}

/** Formatting lives in src/shared so the webviews use the very same rules. */
export { formatUsd } from '../../shared/format';
