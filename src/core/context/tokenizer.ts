// Token counting for context budgets: exact BPE (gpt-tokenizer) for OpenAI models, a calibrated
// over-estimate for Anthropic models, whose tokenizer is not public.
import type { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import { LRUCache } from 'lru-cache';
import { blockEnd, blockStart, blockStartAt, detached, MAX_BLOCK_CHARS } from './pieceBlocks';

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
  /** Char offset of the piece's end in the tokenised string. */
  end: number;
  tokens: number;
  /** Only spaces or tabs: a cut may not end after it (see truncateCounted). */
  blank: boolean;
}

const BLANK = /^[^\S\r\n]+$/;

// gpt-tokenizer merges each pre-tokenisation piece in quadratic time, so one 16 K-character run of
// letters (a DNA sequence, a long CJK paragraph, a line of "=") takes seconds and a 1 MB one
// would hang the extension host. Runs that long are counted in chunks instead: a few tokens off,
// in files where that cannot matter. The look-behinds make each run match once, from its start.
const GIANT_RUN = /(?<![\p{L}\p{M}])[\p{L}\p{M}]{512,}|(?<![^\s\p{L}\p{N}])[^\s\p{L}\p{N}]{512,}|(?<!\s)\s{512,}/gu;
const RUN_CHUNK = 128;

const GIANT = 512;
const SPACE = 0;
const WORD = 1;
const DIGIT = 2;
const OTHER = 3;
const ASCII_CLASS = Array.from({ length: 128 }, (_, c) => {
  if (c === 32 || (c >= 9 && c <= 13)) return SPACE;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return WORD;
  return c >= 48 && c <= 57 ? DIGIT : OTHER;
});

/**
 * A cheap screen for GIANT_RUN (whose Unicode classes cost a third of a count): runs of one coarse
 * class, where every non-ASCII character counts as a letter. Any giant run of letters, spaces or
 * a repeated symbol is one; the rare false alarm only costs the exact check.
 */
function mayHoldGiantRun(text: string): boolean {
  if (text.length < GIANT) return false;
  let run = 0;
  let prev = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? ASCII_CLASS[c] : c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ? SPACE : WORD;
    if (cls === prev) {
      if (++run >= GIANT) return true;
    } else {
      prev = cls;
      run = 1;
    }
  }
  return false;
}

/** [start, end) spans tokenised independently: the whole text unless it holds giant runs. */
function segments(text: string): Array<[number, number]> {
  if (!mayHoldGiantRun(text)) return [[0, text.length]];
  GIANT_RUN.lastIndex = 0;
  let m = GIANT_RUN.exec(text);
  if (!m) return [[0, text.length]];
  const out: Array<[number, number]> = [];
  let at = 0;
  for (; m; m = GIANT_RUN.exec(text)) {
    const runEnd = m.index + m[0].length;
    if (m.index > at) out.push([at, m.index]);
    for (let c = m.index; c < runEnd; ) {
      let next = Math.min(runEnd, c + RUN_CHUNK);
      if (next < runEnd && isHighSurrogate(text.charCodeAt(next - 1))) next += 1;
      out.push([c, next]);
      c = next;
    }
    at = runEnd;
  }
  if (at < text.length) out.push([at, text.length]);
  return out;
}

/**
 * BPE tokenizer over one encoding, optionally scaled. Cuts fall between pre-tokenisation pieces,
 * so that the cut text re-tokenises to exactly the counted tokens: the split pattern has no
 * look-behind, and its only look-ahead is handled by never ending a cut after bare spaces.
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

  private rawCountUpTo(text: string, limit: number): number | false {
    let total = 0;
    for (const [a, b] of segments(text)) {
      const n = this.enc.isWithinTokenLimit(a === 0 && b === text.length ? text : text.slice(a, b), limit - total, AS_TEXT);
      if (n === false) return false;
      total += n;
    }
    return total;
  }

  private rawCount(text: string): number {
    let total = 0;
    for (const [a, b] of segments(text)) total += this.enc.countTokens(a === 0 && b === text.length ? text : text.slice(a, b), AS_TEXT);
    return total;
  }

  /** The text's pre-tokenisation pieces with their token counts, lazily; offsets start at `base`. */
  private *pieces(text: string, base = 0): Generator<Piece> {
    const enc = this.enc;
    for (const [a, b] of segments(text)) {
      let offset = base + a;
      for (const chunk of enc.encodeGenerator(a === 0 && b === text.length ? text : text.slice(a, b), AS_TEXT)) {
        const piece = enc.decode(chunk);
        const last = piece.charCodeAt(piece.length - 1);
        yield { end: offset + piece.length, tokens: chunk.length, blank: (last <= 32 || last >= 0x80) && BLANK.test(piece) };
        offset += piece.length;
      }
    }
  }

  count(text: string): number {
    return text.length === 0 ? 0 : this.scale(this.rawCount(text));
  }

  countUpTo(text: string, limit: number): number | false {
    if (text.length === 0) return 0;
    const raw = this.rawCountUpTo(text, this.raw(limit));
    return raw === false ? false : this.scale(raw);
  }

  truncate(text: string, maxTokens: number): string {
    return this.truncateCounted(text, maxTokens).text;
  }

  truncateCounted(text: string, maxTokens: number): { text: string; tokens: number } {
    const budget = this.raw(maxTokens);
    if (budget <= 0 || text.length === 0) return { text: '', tokens: 0 };
    let used = 0;
    // The last cut point that re-tokenises exactly: not after bare spaces or tabs, which merge
    // into one run once the text after them is gone (`\s+(?!\S)` leaves one to the next word).
    let safeChars = 0;
    let safeUsed = 0;
    for (const piece of this.pieces(text)) {
      if (used + piece.tokens > budget) return this.fillTail(text, safeChars, safeUsed, piece.end, budget);
      used += piece.tokens;
      if (!piece.blank) {
        safeChars = piece.end;
        safeUsed = used;
      }
    }
    return { text, tokens: this.scale(used) };
  }

  /**
   * Fills what is left after the last safe cut with as much of the following text as fits,
   * counting that tail on its own: with no look-behind in the split pattern, the text before
   * `from` tokenises the same, so the prefix count is exactly `used + count(tail)`.
   */
  private fillTail(text: string, from: number, used: number, limit: number, budget: number): { text: string; tokens: number } {
    let lo = from;
    let loTokens = 0;
    let hi = limit;
    const room = budget - used;
    while (lo < hi && room > 0) {
      let mid = Math.ceil((lo + hi) / 2);
      if (mid < hi && isHighSurrogate(text.charCodeAt(mid - 1))) mid += 1;
      const n = this.rawCountUpTo(text.slice(from, mid), room);
      if (n !== false) {
        lo = mid;
        loTokens = n;
      } else {
        hi = mid - 1;
        if (hi > lo && isHighSurrogate(text.charCodeAt(hi - 1))) hi -= 1;
      }
    }
    return { text: text.slice(0, lo), tokens: this.scale(used + loTokens) };
  }

  window(text: string, centre: number, maxTokens: number): TokenWindow {
    const budget = this.raw(maxTokens);
    if (budget <= 0 || text.length === 0) return { start: 0, end: 0, tokens: 0 };
    const c = Math.min(Math.max(0, Math.floor(centre)), text.length);
    // The text is read block by block outward from the centre's block, only as far as the window
    // reaches; each block tokenises alone as it does in the whole text (see pieceBlocks), so the
    // window is the same whichever blocks it was read in, and blocks seen before come from a cache.
    const lo = blockStartAt(text, c, STABLE_SEARCH_CHARS);
    if (lo === undefined) return this.regionWindow(text, c, budget);
    const w = expandWindow(text, new PieceRun(this, text, lo), c, budget, false, false);
    if (typeof w === 'string') throw new Error('unreachable: blocks reach both ends of the text');
    return { start: w.start, end: w.end, tokens: this.scale(w.tokens) };
  }

  /**
   * Without a line-start boundary near the centre (a minified file): one region around it, grown
   * while the window reaches its edges. Its start is arbitrary, but a window that starts on one of
   * its pieces tokenises the same on its own.
   */
  private regionWindow(text: string, c: number, budget: number): TokenWindow {
    let beforeSpan = Math.max(2048, budget * 2);
    let afterSpan = Math.max(2048, budget * 3);
    for (;;) {
      const from = Math.max(0, c - beforeSpan);
      const afterEnd = Math.min(text.length, c + afterSpan);
      const w = expandWindow(text, new PieceRun(this, text, from, afterEnd), c, budget, from > 0, afterEnd < text.length);
      if (w === 'grow-before') beforeSpan *= 2;
      else if (w === 'grow-after') afterSpan *= 2;
      else return { start: w.start, end: w.end, tokens: this.scale(w.tokens) };
    }
  }

  /** The pieces of one block, packed; from the cache shared by every tokenizer of this encoding. */
  blockPieces(text: string, start: number, end: number): Int32Array {
    const src = text.slice(start, end);
    const cache = blockCache(this.encodingName);
    let packed = cache.get(src);
    if (!packed) {
      const out: number[] = [];
      for (const piece of this.pieces(src)) out.push(piece.end, piece.tokens * 2 + (piece.blank ? 1 : 0));
      packed = Int32Array.from(out);
      if (src.length <= MAX_CACHED_BLOCK_CHARS) cache.set(detached(src), packed);
    }
    return packed;
  }

  /** Pieces of text[start, end) as they come, for a block too large to be worth caching. */
  lazyPieces(text: string, start: number, end: number): Iterator<Piece> {
    return this.pieces(text.slice(start, end), start);
  }
}

/** A run of pieces: where it starts, its pieces packed, and the window index of its first piece. */
interface PieceBlock {
  start: number;
  /** [end relative to `start`, tokens × 2 + (blank ? 1 : 0)] for each piece. */
  packed: Int32Array;
  first: number;
}

/** Pieces read at a time from a region or a block too large to cache. */
const LAZY_CHUNK_PIECES = 256;

/**
 * The pieces of the text around `lo`, read as a window grows: piece 0 is the first piece from
 * `lo`, negative indices run back from it. Read block by block (see pieceBlocks) both ways, or,
 * for a region, lazily from `lo` to the region's end with nothing before it.
 */
class PieceRun {
  // Blocks from `lo` on, in text order (block x ≥ 0), and before it, nearest first (block -1 - x).
  private readonly fwd: PieceBlock[] = [];
  private readonly back: PieceBlock[] = [];
  private fwdPieces = 0;
  private backPieces = 0;
  /** Where the next block starts after `lo`, and where the next one ends before it. */
  private fwdNext: number;
  private backNext: number;
  /** Pieces of a region or an over-large block, read a chunk at a time from `lazyAt`. */
  private lazy: Iterator<Piece> | undefined;
  private lazyAt = 0;
  // Set by `seek`: the block of the piece found (where the next search starts), its packed pieces,
  // the piece's pair in them and the block's start.
  x = 0;
  packed: Int32Array = new Int32Array(0);
  at = 0;
  base = 0;

  constructor(
    private readonly tk: BpeTokenizer,
    private readonly text: string,
    readonly lo: number,
    regionEnd?: number,
  ) {
    if (regionEnd === undefined) {
      this.fwdNext = lo;
      this.backNext = lo;
    } else {
      this.lazy = tk.lazyPieces(text, lo, regionEnd);
      this.lazyAt = lo;
      this.fwdNext = text.length;
      this.backNext = 0;
    }
  }

  /** Block x, read when first asked for; undefined past either end of the text (or region). */
  block(x: number): PieceBlock | undefined {
    if (x >= 0) {
      while (x >= this.fwd.length) if (!this.readForward()) return undefined;
      return this.fwd[x];
    }
    while (-1 - x >= this.back.length) if (!this.readBack()) return undefined;
    return this.back[-1 - x];
  }

  /** Points `packed`, `at` (the piece's pair) and `base` (its block's start) at piece i; false if there is none. */
  seek(i: number): boolean {
    let x = this.x;
    for (;;) {
      const blk = this.block(x);
      if (!blk) return false;
      if (i < blk.first) x -= 1;
      else if (i >= blk.first + (blk.packed.length >> 1)) x += 1;
      else {
        this.x = x;
        this.packed = blk.packed;
        this.at = 2 * (i - blk.first);
        this.base = blk.start;
        return true;
      }
    }
  }

  private readForward(): boolean {
    if (this.lazy) {
      const start = this.lazyAt;
      const out: number[] = [];
      while (out.length < 2 * LAZY_CHUNK_PIECES) {
        const next = this.lazy.next();
        if (next.done) {
          this.lazy = undefined;
          break;
        }
        out.push(next.value.end - start, next.value.tokens * 2 + (next.value.blank ? 1 : 0));
        this.lazyAt = next.value.end;
      }
      if (out.length > 0) return this.addForward(start, Int32Array.from(out));
    }
    const start = this.fwdNext;
    if (start >= this.text.length) return false;
    const end = blockEnd(this.text, start);
    this.fwdNext = end;
    if (end - start > MAX_CACHED_BLOCK_CHARS) {
      // A long line without a boundary: read only as far as the window needs.
      this.lazy = this.tk.lazyPieces(this.text, start, end);
      this.lazyAt = start;
      return this.readForward();
    }
    return this.addForward(start, this.tk.blockPieces(this.text, start, end));
  }

  private addForward(start: number, packed: Int32Array): boolean {
    this.fwd.push({ start, packed, first: this.fwdPieces });
    this.fwdPieces += packed.length >> 1;
    return true;
  }

  private readBack(): boolean {
    const to = this.backNext;
    if (to <= 0) return false;
    const start = blockStart(this.text, to) ?? 0;
    this.backNext = start;
    const packed = this.tk.blockPieces(this.text, start, to);
    this.backPieces += packed.length >> 1;
    this.back.push({ start, packed, first: -this.backPieces });
    return true;
  }
}

/**
 * Grows a window outward from the centre's piece, alternating sides, within the budget; asks for a
 * larger region when the window reaches the edge of what `run` can read and more text lies beyond.
 */
function expandWindow(
  text: string,
  run: PieceRun,
  c: number,
  budget: number,
  moreBefore: boolean,
  moreAfter: boolean,
): TokenWindow | 'grow-before' | 'grow-after' {
  const has = (i: number): boolean => run.seek(i);
  const tokens = (i: number): number => (run.seek(i) ? run.packed[run.at + 1] >> 1 : 0);
  const endOf = (i: number): number => (run.seek(i) ? run.base + run.packed[run.at] : run.lo);
  // For the index just past the last piece: the end of the text read.
  const startOf = (i: number): number => {
    if (run.seek(i)) return run.base + (run.at > 0 ? run.packed[run.at - 2] : 0);
    return i > 0 ? endOf(i - 1) : run.lo;
  };
  // The piece holding the centre; a centre at the very end belongs after the last piece.
  let k = 0;
  while (has(k) && endOf(k) <= c) k += 1;
  let a = k;
  let b = k;
  // The next piece on either side, as a block and the piece's pair in it: the loop below runs once
  // per piece of the window, so it steps through the blocks rather than seeking each piece.
  let fx = 0;
  let fo = 0;
  let fwd = run.seek(k) ? run.block((fx = run.x)) : undefined;
  if (fwd) fo = run.at;
  let bx = 0;
  let bo = 0;
  let back = run.seek(k - 1) ? run.block((bx = run.x)) : undefined;
  if (back) bo = run.at;
  let tokensBefore = 0;
  let tokensAfter = 0;
  let beforeOpen = true;
  let afterOpen = true;
  while (beforeOpen || afterOpen) {
    if (afterOpen && (!beforeOpen || tokensAfter <= tokensBefore)) {
      const t = fwd ? fwd.packed[fo + 1] >> 1 : 0;
      if (fwd && tokensBefore + tokensAfter + t <= budget) {
        tokensAfter += t;
        b += 1;
        fo += 2;
        while (fwd && fo >= fwd.packed.length) {
          fwd = run.block(++fx);
          fo = 0;
        }
      } else afterOpen = false;
    } else {
      const t = back ? back.packed[bo + 1] >> 1 : 0;
      if (back && tokensBefore + tokensAfter + t <= budget) {
        tokensBefore += t;
        a -= 1;
        bo -= 2;
        while (back && bo < 0) {
          back = run.block(--bx);
          bo = back ? back.packed.length - 2 : 0;
        }
      } else beforeOpen = false;
    }
  }
  let total = tokensBefore + tokensAfter;
  if (total < budget) {
    if (!has(a - 1) && moreBefore) return 'grow-before';
    if (!has(b) && moreAfter) return 'grow-after';
  }
  // Whole lines read better: drop a partial first and last line, unless that loses the centre
  // or much of the budget (long lines).
  const affordable = Math.max(24, Math.floor(budget / 10));
  const startsLine = (i: number): boolean => {
    const at = startOf(i);
    return at === 0 || text.charCodeAt(at - 1) === 10;
  };
  if (a < k && !startsLine(a)) {
    let m = a;
    let dropped = 0;
    while (m < k && !startsLine(m)) dropped += tokens(m++);
    if (startsLine(m) && dropped <= affordable) {
      a = m;
      total -= dropped;
    }
  }
  if (b > k + 1 && has(b) && !startsLine(b)) {
    let m = b;
    let dropped = 0;
    while (m > k + 1 && !startsLine(m)) dropped += tokens(--m);
    if (startsLine(m) && dropped <= affordable) {
      b = m;
      total -= dropped;
    }
  }
  // Never end after bare spaces that more text follows (see truncateCounted).
  while (b > a && has(b) && run.seek(b - 1) && (run.packed[run.at + 1] & 1) === 1) total -= tokens(--b);
  return { start: startOf(a), end: b > a ? endOf(b - 1) : startOf(a), tokens: total };
}

/** Blocks up to this size are cached; a larger one (a long minified line) is read only as far as needed. */
const MAX_CACHED_BLOCK_CHARS = 4 * MAX_BLOCK_CHARS;
/** Bytes the block cache of one encoding may hold, about: the text (2 per char) and 8 per piece. */
const BLOCK_CACHE_BYTES = 8 * 1024 * 1024;
const blockCaches = new Map<EncodingName, LRUCache<string, Int32Array>>();

/** Forgets the tokenised blocks, so that the next window starts cold (for tests and benchmarks). */
export function clearBlockCaches(): void {
  for (const cache of blockCaches.values()) cache.clear();
}

function blockCache(name: EncodingName): LRUCache<string, Int32Array> {
  let cache = blockCaches.get(name);
  if (!cache) {
    cache = new LRUCache<string, Int32Array>({ max: 8192, maxSize: BLOCK_CACHE_BYTES, sizeCalculation: (v, k) => 2 * k.length + 4 * v.length + 64 });
    blockCaches.set(name, cache);
  }
  return cache;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** How far before the centre a block start is looked for before reading one region around it. */
const STABLE_SEARCH_CHARS = 8192;

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
