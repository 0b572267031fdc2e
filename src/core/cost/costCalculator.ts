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

const CENTS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "$1.23", "$0.0042" for sub-cent amounts, "<$0.0001" for dust, "$0.00" for nothing. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '$—';
  if (usd === 0) return '$0.00';
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs < 0.0001) return sign ? '$0.00' : '<$0.0001';
  // 0.00999 rounds to 0.0100 at four places: show it as cents like any other amount from a cent up.
  if (Math.round(abs * 10_000) < 100) return `${sign}$${abs.toFixed(4)}`;
  return `${sign}$${CENTS.format(abs)}`;
}
