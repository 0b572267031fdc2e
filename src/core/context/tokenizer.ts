// Token counting for context budgets: exact BPE (gpt-tokenizer) for OpenAI models, a calibrated
// over-estimate for Anthropic models, whose tokenizer is not public.
import type { GptEncoding } from 'gpt-tokenizer/GptEncoding';

export interface TokenWindow {
  /** Char offsets of the window in the text it was cut from. */
  start: number;
  end: number;
  tokens: number;
}

export interface Tokenizer {
  readonly name: string;
  /** False when counts are an estimate (never lower than the real count, as far as we know). */
  readonly exact: boolean;
  count(text: string): number;
  /** largest prefix of text with ≤ maxTokens tokens */
  truncate(text: string, maxTokens: number): string;
  /**
   * Optional fast paths the pruner uses when present; they read only as much of the text as the
   * limit needs. `countUpTo` returns false as soon as the text is known to exceed `limit`.
   */
  countUpTo?(text: string, limit: number): number | false;
  truncateCounted?(text: string, maxTokens: number): { text: string; tokens: number };
  /** A run of whole lines around `centre` with ≤ maxTokens tokens, as balanced as the text allows. */
  window?(text: string, centre: number, maxTokens: number): TokenWindow;
}

/** No token of o200k_base or cl100k_base decodes to more than 128 characters (runs of spaces). */
export const MAX_CHARS_PER_TOKEN = 128;

/**
 * Claude's tokenizers produce roughly 10–20 % more tokens than o200k_base on code and English
 * prose; 1.15 sits in that range and errs towards over-counting, which costs a little context
 * but avoids context-length errors. Integer arithmetic (115/100) keeps `ceil` exact.
 */
export const ANTHROPIC_TOKEN_FACTOR = 1.15;
const FACTOR_NUM = 115;
const FACTOR_DEN = 100;

type EncodingName = 'o200k_base' | 'cl100k_base';
interface EncodingModule {
  default: GptEncoding;
}

// Text is counted as text: a file that contains "<|endoftext|>" must not make the tokenizer throw.
const AS_TEXT = { disallowedSpecial: new Set<string>() };

const encodings = new Map<EncodingName, GptEncoding>();

function loadEncoding(name: EncodingName): GptEncoding {
  let enc = encodings.get(name);
  if (!enc) {
    // require() rather than import: evaluating a rank table takes ~100–300 ms and tens of MB, so
    // it is paid on first use of that encoding, not at activation (esbuild keeps it lazy too).
    /* eslint-disable @typescript-eslint/no-require-imports */
    const mod =
      name === 'o200k_base'
        ? (require('gpt-tokenizer/encoding/o200k_base') as EncodingModule)
        : (require('gpt-tokenizer/encoding/cl100k_base') as EncodingModule);
    /* eslint-enable @typescript-eslint/no-require-imports */
    enc = mod.default;
    encodings.set(name, enc);
  }
  return enc;
}

interface Piece {
  /** Char offset of the piece in the tokenised string. */
  start: number;
  tokens: number;
}

/**
 * BPE tokenizer over one encoding, optionally scaled. Works piece by piece (the encoding's
 * pre-tokenisation split) so that a cut at a piece boundary re-tokenises to exactly the counted
 * tokens: the split pattern has no look-behind and its only look-ahead is satisfied at an end of text.
 */
class BpeTokenizer implements Tokenizer {
  readonly exact: boolean;

  constructor(
    readonly name: string,
    private readonly encodingName: EncodingName,
    private readonly scaled: boolean,
  ) {
    this.exact = !scaled;
  }

  private get enc(): GptEncoding {
    return loadEncoding(this.encodingName);
  }

  /** Raw (unscaled) budget that keeps the scaled count within `max`. */
  private raw(max: number): number {
    const m = Math.max(0, Math.floor(max));
    return this.scaled ? Math.floor((m * FACTOR_DEN) / FACTOR_NUM) : m;
  }

  private scale(rawTokens: number): number {
    return this.scaled ? Math.floor((rawTokens * FACTOR_NUM + FACTOR_DEN - 1) / FACTOR_DEN) : rawTokens;
  }

  count(text: string): number {
    if (text.length === 0) return 0;
    return this.scale(this.enc.countTokens(text, AS_TEXT));
  }

  countUpTo(text: string, limit: number): number | false {
    if (text.length === 0) return 0;
    const raw = this.enc.isWithinTokenLimit(text, this.raw(limit), AS_TEXT);
    return raw === false ? false : this.scale(raw);
  }

  truncate(text: string, maxTokens: number): string {
    return this.truncateCounted(text, maxTokens).text;
  }

  truncateCounted(text: string, maxTokens: number): { text: string; tokens: number } {
    const budget = this.raw(maxTokens);
    if (budget <= 0 || text.length === 0) return { text: '', tokens: 0 };
    const enc = this.enc;
    let chars = 0;
    let used = 0;
    for (const chunk of enc.encodeGenerator(text, AS_TEXT)) {
      const pieceLength = enc.decode(chunk).length;
      if (used + chunk.length <= budget) {
        used += chunk.length;
        chars += pieceLength;
        continue;
      }
      const part = this.largestPrefix(text.slice(chars, chars + pieceLength), budget - used);
      chars += part.chars;
      used += part.tokens;
      break;
    }
    return { text: chars >= text.length ? text : text.slice(0, chars), tokens: this.scale(used) };
  }

  /** Longest prefix of one pre-tokenisation piece that fits `room` raw tokens (binary search). */
  private largestPrefix(piece: string, room: number): { chars: number; tokens: number } {
    if (room <= 0) return { chars: 0, tokens: 0 };
    const enc = this.enc;
    let lo = 0;
    let loTokens = 0;
    let hi = piece.length;
    while (lo < hi) {
      let mid = Math.ceil((lo + hi) / 2);
      if (mid < hi && isHighSurrogate(piece.charCodeAt(mid - 1))) mid += 1;
      const n = enc.countTokens(piece.slice(0, mid), AS_TEXT);
      if (n <= room) {
        lo = mid;
        loTokens = n;
      } else {
        hi = mid - 1;
        if (hi > lo && isHighSurrogate(piece.charCodeAt(hi - 1))) hi -= 1;
      }
    }
    return { chars: lo, tokens: loTokens };
  }

  window(text: string, centre: number, maxTokens: number): TokenWindow {
    const budget = this.raw(maxTokens);
    if (budget <= 0 || text.length === 0) return { start: 0, end: 0, tokens: 0 };
    const c = Math.min(Math.max(0, Math.floor(centre)), text.length);
    // Tokenise only a region around the centre; grow it if the text there is unusually sparse.
    for (let span = Math.max(2048, budget * 3); ; span *= 2) {
      const regionStart = lineStart(text, Math.max(0, c - span));
      const regionEnd = Math.min(text.length, c + span);
      const region = text.slice(regionStart, regionEnd);
      const w = this.windowIn(region, c - regionStart, budget, regionStart > 0, regionEnd < text.length);
      if (w) return { start: regionStart + w.start, end: regionStart + w.end, tokens: this.scale(w.tokens) };
    }
  }

  /** Undefined when the window reached a region edge that is not the text's edge (grow the region). */
  private windowIn(region: string, centre: number, budget: number, moreBefore: boolean, moreAfter: boolean): TokenWindow | undefined {
    const enc = this.enc;
    const pieces: Piece[] = [];
    let offset = 0;
    for (const chunk of enc.encodeGenerator(region, AS_TEXT)) {
      pieces.push({ start: offset, tokens: chunk.length });
      offset += enc.decode(chunk).length;
    }
    const n = pieces.length;
    const startOf = (i: number): number => (i < n ? pieces[i].start : region.length);
    // The piece holding the centre; a centre at the very end belongs after the last piece.
    let k = 0;
    while (k < n && startOf(k + 1) <= centre) k += 1;
    let a = k;
    let b = k;
    let before = 0;
    let after = 0;
    let beforeOpen = true;
    let afterOpen = true;
    while (beforeOpen || afterOpen) {
      const takeAfter = afterOpen && (!beforeOpen || after <= before);
      if (takeAfter) {
        if (b < n && before + after + pieces[b].tokens <= budget) after += pieces[b++].tokens;
        else afterOpen = false;
      } else if (a > 0 && before + after + pieces[a - 1].tokens <= budget) {
        before += pieces[--a].tokens;
      } else {
        beforeOpen = false;
      }
    }
    let tokens = before + after;
    if ((a === 0 && moreBefore) || (b === n && moreAfter)) {
      if (tokens < budget) return undefined;
    }
    // Whole lines read better: drop a partial first and last line, unless that loses the centre.
    const startsLine = (i: number): boolean => i === 0 || region.charCodeAt(startOf(i) - 1) === 10;
    if (a < k && !startsLine(a)) {
      let m = a;
      let dropped = 0;
      while (m < k && !startsLine(m)) dropped += pieces[m++].tokens;
      if (startsLine(m)) {
        a = m;
        tokens -= dropped;
      }
    }
    if (b > k + 1 && b < n && !startsLine(b)) {
      let m = b;
      let dropped = 0;
      while (m > k + 1 && !startsLine(m)) dropped += pieces[--m].tokens;
      if (startsLine(m)) {
        b = m;
        tokens -= dropped;
      }
    }
    return { start: startOf(a), end: startOf(b), tokens };
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function lineStart(text: string, offset: number): number {
  if (offset <= 0) return 0;
  const nl = text.lastIndexOf('\n', offset - 1);
  return nl < 0 ? 0 : nl + 1;
}

/** Models that use cl100k_base: GPT-4 before 4o, GPT-3.5 and the older embedding models. */
function usesCl100k(model: string): boolean {
  if (/^gpt-4(?:o|\.[1-9])/.test(model)) return false;
  return /^(?:gpt-4|gpt-3\.5|gpt-35|text-embedding-(?:3|ada-002))/.test(model);
}

/** Models known to use o200k_base. */
function usesO200k(model: string): boolean {
  return /^(?:gpt-4o|gpt-4\.[1-9]|gpt-[5-9]|o[1-9](?:-|$)|chatgpt-|codex-|gpt-oss|gpt-realtime|gpt-audio|omni-)/.test(model);
}

const tokenizers = new Map<string, Tokenizer>();

function cached(name: string, encoding: EncodingName, scaled: boolean): Tokenizer {
  let t = tokenizers.get(name);
  if (!t) {
    t = new BpeTokenizer(name, encoding, scaled);
    tokenizers.set(name, t);
  }
  return t;
}

/**
 * The tokenizer for an agent. OpenAI models get their exact encoding; Anthropic models and
 * unknown models behind OpenAI-compatible endpoints (Ollama, DeepSeek…) get o200k × 1.15.
 */
export function tokenizerFor(provider: 'openai' | 'anthropic', model: string): Tokenizer {
  if (provider === 'openai') {
    // Fine-tunes are named "ft:<base>:<org>::<id>".
    const base = (model.startsWith('ft:') ? (model.split(':')[1] ?? '') : model).toLowerCase();
    if (usesCl100k(base)) return cached('cl100k_base', 'cl100k_base', false);
    if (usesO200k(base)) return cached('o200k_base', 'o200k_base', false);
  }
  return cached(`o200k_base×${ANTHROPIC_TOKEN_FACTOR}`, 'o200k_base', true);
}
