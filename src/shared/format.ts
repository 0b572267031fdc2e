// Number formatting shared by the core, the host and the webviews (browser bundles may import
// only src/shared).

const CENTS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "$1.23", "$0.0042" below a cent, "<$0.0001" for dust, "$0.00" for nothing. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '$—';
  if (usd === 0) return '$0.00';
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs < 0.0001) return sign ? '$0.00' : '<$0.0001';
  if (Math.round(abs * 10_000) < 100) return `${sign}$${abs.toFixed(4)}`;
  return `${sign}$${CENTS.format(abs)}`;
}

/**
 * A cost as the user reads it: "≈" marks an estimate (the provider reported no token usage, so
 * MAOF counted the tokens itself).
 */
export function formatCost(usd: number, estimated = false): string {
  return estimated ? `≈${formatUsd(usd)}` : formatUsd(usd);
}

/** What "≈" before a cost means, for a tooltip. */
export const ESTIMATED_COST_TITLE = 'Estimated: the provider reported no token usage, so MAOF counted the tokens with its tokenizer';

/** "850 ms", "1.2 s", "42 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${min} min ${s} s` : `${min} min`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}
