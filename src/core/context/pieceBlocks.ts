// Splits text into blocks at line starts that are pre-tokenisation piece boundaries, so that each
// block tokenises on its own exactly as it does within the whole text, and an edit re-tokenises
// only the blocks it touched. Block edges are chosen by content, not position: an insertion
// shifts the blocks after it without changing their text, so they are found again in a cache.

/** About one in this many boundaries ends a block (a power of two). */
const BLOCK_SPACING = 8;
/** Characters before a boundary that decide whether it ends a block. */
const HASH_CHARS = 24;
/** Past this size a block ends at any boundary, so that text without chosen edges stays cheap to edit. */
export const MAX_BLOCK_CHARS = 2048;
/** A whitespace run this long is cut into chunks by the tokenizer (GIANT_RUN); none may cross an edge. */
const GIANT_SPACE_RUN = 512;

const SPACE_RE = /\s/u;

/** `\s` as the split patterns see it. */
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return SPACE_RE.test(String.fromCharCode(c));
}

/**
 * Whether the text before `p` ends a piece in any text that holds both sides, whatever else comes
 * after. True at a line start (after "\n") that is not followed by another line break or "/"
 * (o200k_base's `[^\s\p{L}\p{N}]+[\r\n/]*` carries "}\n//" over the break), and whose leading
 * blanks do not run into a line break (`\s*[\r\n]+` joins "\n  \n") nor make a giant run.
 * The split patterns have no look-behind, so the text from `p` on then tokenises the same alone.
 */
export function isPieceBoundary(text: string, p: number): boolean {
  if (p <= 0 || p >= text.length) return true;
  if (text.charCodeAt(p - 1) !== 10) return false;
  const c = text.charCodeAt(p);
  if (c === 10 || c === 13 || c === 47) return false;
  if (!isSpace(c)) return true;
  let q = p;
  while (q < text.length && q - p < GIANT_SPACE_RUN) {
    const d = text.charCodeAt(q);
    if (d === 10 || d === 13) return false;
    if (!isSpace(d)) break;
    q += 1;
  }
  let s = p - 1;
  while (s > 0 && q - s < GIANT_SPACE_RUN && isSpace(text.charCodeAt(s - 1))) s -= 1;
  return q - s < GIANT_SPACE_RUN;
}

/** A boundary chosen to end a block: decided by the few characters before it, not its position. */
function chosen(text: string, p: number): boolean {
  let h = 0x811c9dc5;
  for (let i = Math.max(0, p - HASH_CHARS); i <= p; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h & (BLOCK_SPACING - 1)) === 0;
}

/**
 * The end of the block that starts at boundary `from`: the next chosen boundary, or, once the block
 * has grown past MAX_BLOCK_CHARS, the last boundary before that size (or the first after it).
 */
export function blockEnd(text: string, from: number): number {
  let last = -1;
  for (let nl = text.indexOf('\n', from); nl >= 0; nl = text.indexOf('\n', nl + 1)) {
    const p = nl + 1;
    if (p >= text.length) return text.length;
    if (p - from > MAX_BLOCK_CHARS && last > from) return last;
    if (isPieceBoundary(text, p)) {
      if (chosen(text, p) || p - from > MAX_BLOCK_CHARS) return p;
      last = p;
    }
  }
  return text.length;
}

/**
 * The start of the block that ends at boundary `to` (> 0), found as `blockEnd` finds an end but
 * scanning back. Undefined when no boundary lies within `limit` characters before `to`.
 */
export function blockStart(text: string, to: number, limit = Infinity): number | undefined {
  if (to <= 1) return 0;
  let last = -1;
  for (let nl = text.lastIndexOf('\n', to - 2); ; nl = nl > 0 ? text.lastIndexOf('\n', nl - 1) : -1) {
    const p = nl + 1;
    if (p <= 0) return 0;
    if (to - p > MAX_BLOCK_CHARS && last >= 0) return last;
    if (last < 0 && to - p > limit) return undefined;
    if (isPieceBoundary(text, p)) {
      if (chosen(text, p) || to - p > MAX_BLOCK_CHARS) return p;
      last = p;
    }
  }
}

/** The start of the block holding `offset` (see blockStart); a centre at the very end is in the last. */
export function blockStartAt(text: string, offset: number, limit: number): number | undefined {
  return offset <= 0 ? 0 : blockStart(text, Math.min(offset + 1, text.length), limit);
}

/**
 * A copy of a substring that does not keep the string it was cut from alive (V8 represents a
 * slice as a view of its parent): a cache keyed by slices would otherwise hold every version of
 * an edited file.
 */
export function detached(s: string): string {
  return (' ' + s).slice(1);
}
