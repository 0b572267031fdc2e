// A ceiling on a text's token count that needs no tokenizer. Every token of o200k_base and
// cl100k_base stands for at least one byte of UTF-8, so a text never has more tokens than bytes;
// the Anthropic estimate (o200k × 1.15) is bounded by its bytes × 1.15. For a one-line prompt this
// ceiling is as good as the count where only a ceiling is needed (the context-window check, the
// worst-case cost reserved), and it spares loading a 2 MB rank table (~0.1–0.3 s) to count it.
import { ANTHROPIC_TOKEN_FACTOR, type Tokenizer } from './tokenizer';

const FACTOR_PERCENT = Math.round(ANTHROPIC_TOKEN_FACTOR * 100);

/** At least the tokens `tokenizer.count(text)` would report. */
export function tokenUpperBound(tokenizer: Pick<Tokenizer, 'exact'>, text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  return tokenizer.exact ? bytes : Math.ceil((bytes * FACTOR_PERCENT) / 100);
}
