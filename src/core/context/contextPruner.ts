// Fits editor context (selection, files, history, notes) into an agent's token budget, by priority,
// with secrets removed, and reports exactly what was kept, cut and left out.
import { LRUCache } from 'lru-cache';
import { IncrementalRedactor, isSecretFile, type RedactionResult } from './secretRedactor';
import { MAX_CHARS_PER_TOKEN, type TokenWindow, type Tokenizer } from './tokenizer';

export type ContextKind = 'selection' | 'activeFile' | 'visibleEditor' | 'openTab' | 'history' | 'note';

export interface ContextItem {
  id: string;
  kind: ContextKind;
  label: string /* e.g. relative path */;
  text: string;
  path?: string;
  languageId?: string;
  /** for activeFile: offset of the cursor, to keep the text around it when truncating */
  cursorOffset?: number;
  /** bump when text changes; lets the pruner reuse counts */
  version?: number;
}

export interface KeptItem {
  id: string;
  kind: ContextKind;
  label: string;
  text: string;
  tokens: number;
  truncated: boolean;
  languageId?: string;
}

export type DropReason = 'budget' | 'secret-file' | 'binary' | 'too-large';

export interface DroppedItem {
  id: string;
  label: string;
  kind: ContextKind;
  /** 0 for secret and binary files (never read); an estimate when `estimated` is set. */
  tokens: number;
  reason: DropReason;
  estimated?: boolean;
}

export interface TruncatedItem {
  id: string;
  label: string;
  fromTokens: number;
  toTokens: number;
  /** `fromTokens` is extrapolated: counting a very large text exactly is not worth its time. */
  estimated?: boolean;
}

export interface PruneReport {
  kept: KeptItem[];
  dropped: DroppedItem[];
  truncated: TruncatedItem[];
  /** Tokens of the kept text plus the headers and fences `renderContext` wraps it in; ≤ budget. */
  usedTokens: number;
  budgetTokens: number;
  redactions: number;
}

export interface PruneOptions {
  budgetTokens: number;
  tokenizer: Tokenizer;
  redact?: boolean /* default true */;
  maxFileBytes?: number;
  excludeFiles?: string[];
}

const PRIORITY: Record<ContextKind, number> = { selection: 0, activeFile: 1, visibleEditor: 2, openTab: 3, history: 4, note: 5 };
const FILE_KINDS: ReadonlySet<ContextKind> = new Set(['activeFile', 'visibleEditor', 'openTab']);

/** Below this, a cut-down excerpt is more noise than help. */
const MIN_EXCERPT_TOKENS = 64;
const DEFAULT_MAX_FILE_BYTES = 1_000_000;
const BINARY_SAMPLE_CHARS = 8192;
/** A cut text up to this size is counted whole for the report; a larger one is extrapolated. */
const EXACT_REPORT_CHARS = 32_000;
/** Chars per budget token read around the cut of an over-large text before growing the region. */
const REGION_CHARS_PER_TOKEN = 8;
const MEMO_MAX_CHARS = 64_000_000;
const FACTS_MAX_CHARS = 64_000_000;
/** Boundary merges between a block's text and its fences can shift a count by a token or two. */
const FRAME_MARGIN_TOKENS = 4;

interface Cut {
  key: string;
  text: string;
  tokens: number;
  redactions: number;
  /** The cut kept all of the text: the item fits as it is. */
  whole: boolean;
}

interface Memo {
  /** The text the entry describes: reused only for the same content (the same string is O(1)). */
  source: string;
  version?: number;
  prepared?: RedactionResult;
  /** Exact tokens of the prepared text, or a bound it is known to exceed. */
  tokens?: number;
  over?: number;
  cut?: Cut;
}

/** What every prune asks of every item, whatever the tokenizer: kept per item so it is asked once. */
interface Facts {
  source: string;
  binary: boolean;
  /** UTF-8 length, when it was needed. */
  bytes?: number;
}

/** Holds a memo of token counts so repeated prunes are incremental. */
export class ContextPruner {
  // Bounded by characters held, not just entries: a memo keeps its text (and maybe a redacted
  // copy) alive after the editor has closed the document.
  private readonly memo = new LRUCache<string, Memo>({ max: 4000, maxSize: MEMO_MAX_CHARS, sizeCalculation: (m) => 2 * m.source.length + 1 });
  private readonly frames = new LRUCache<string, number>({ max: 4000 });
  // Holds the text of every open item (not a copy: the editor holds it too), so that 200 open tabs
  // are not scanned for binary content and measured in bytes on every prune.
  private readonly facts = new LRUCache<string, Facts>({ max: 4000, maxSize: FACTS_MAX_CHARS, sizeCalculation: (f) => f.source.length + 1 });
  /** Redacts an edited text again only where it changed. */
  private readonly redactor = new IncrementalRedactor();

  prune(items: ContextItem[], opts: PruneOptions): PruneReport {
    const budget = Math.max(0, Math.floor(opts.budgetTokens));
    const tk = opts.tokenizer;
    const redact = opts.redact ?? true;
    const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const report: PruneReport = { kept: [], dropped: [], truncated: [], usedTokens: 0, budgetTokens: budget, redactions: 0 };
    const keep = (item: ContextItem, text: string, tokens: number, redactions: number, frame: number): void => {
      report.kept.push(kept(item, text, tokens, false));
      report.usedTokens += tokens + frame;
      report.redactions += redactions;
    };
    const drop = (item: ContextItem, reason: DropReason, tokens = 0, estimated = false): void => {
      report.dropped.push({ id: item.id, label: item.label, kind: item.kind, tokens, reason, ...(estimated ? { estimated } : {}) });
    };

    // Secret files go before anything else looks at them: never read, never counted.
    const candidates: Array<{ item: ContextItem; index: number }> = [];
    items.forEach((item, index) => {
      const path = item.path ?? (FILE_KINDS.has(item.kind) ? item.label : undefined);
      if (path !== undefined && isSecretFile(path, opts.excludeFiles)) drop(item, 'secret-file');
      else candidates.push({ item, index });
    });
    candidates.sort((a, b) => PRIORITY[a.item.kind] - PRIORITY[b.item.kind] || a.index - b.index);

    let excerptTaken = false;
    for (const { item } of candidates) {
      if (item.text.trim().length === 0) continue;
      const facts = this.factsFor(item);
      if (facts.binary) {
        drop(item, 'binary');
        continue;
      }
      const tooLarge = exceedsBytes(facts, maxFileBytes);
      const mayCut = item.kind === 'selection' || item.kind === 'activeFile';
      if (tooLarge && !mayCut) {
        drop(item, 'too-large', estimateTokens(item.text), true);
        continue;
      }
      const left = budget - report.usedTokens;
      // Frames are first costed with a plain fence; a text that holds fences of its own needs a
      // longer one, costed once the kept text is known.
      let avail = left - this.frameTokens(item, tk, PLAIN_FENCE);
      // Whole, if it can fit at all: a text of n chars has at least n / MAX_CHARS_PER_TOKEN tokens.
      if (!tooLarge && avail > 0 && item.text.length <= avail * MAX_CHARS_PER_TOKEN) {
        const memo = this.memoFor(item, tk, redact);
        const prepared = this.prepare(memo, redact);
        // While the excerpt is still free, cutting counts the text once: a cut that keeps all of
        // it is the whole item. After that, counting stops as soon as the text exceeds `avail`.
        const mayExcerpt = !excerptTaken && avail >= MIN_EXCERPT_TOKENS;
        const tokens = mayExcerpt ? knownWithin(memo, avail) : this.countWithin(memo, prepared.text, avail, tk);
        if (typeof tokens === 'number') {
          const frame = this.frameTokens(item, tk, fenceFor(prepared.text));
          if (tokens + frame <= left) {
            keep(item, prepared.text, tokens, prepared.count, frame);
            continue;
          }
          avail = left - frame;
        }
      }
      // The first item that does not fit is cut to what is left; later ones may still fit whole.
      if (!excerptTaken && avail >= MIN_EXCERPT_TOKENS) {
        const memo = this.memoFor(item, tk, redact);
        let cut = this.cut(memo, item, avail, tk, redact, tooLarge);
        let frame = this.frameTokens(item, tk, fenceFor(cut.text));
        if (cut.tokens + frame > left) {
          // Its own fences made the frame longer: cut again to make room (a shorter cut cannot
          // need a longer fence).
          cut = this.cut(memo, item, Math.max(0, left - frame), tk, redact, tooLarge);
          frame = this.frameTokens(item, tk, fenceFor(cut.text));
        }
        if (cut.whole && cut.tokens + frame <= left) {
          memo.tokens = cut.tokens;
          keep(item, cut.text, cut.tokens, cut.redactions, frame);
          continue;
        }
        excerptTaken = true;
        if (cut.tokens > 0 && cut.tokens + frame <= left) {
          report.kept.push(kept(item, cut.text, cut.tokens, true));
          report.usedTokens += cut.tokens + frame;
          report.redactions += cut.redactions;
          const from = fullTokens(memo, tk, tooLarge, cut, item.text.length);
          report.truncated.push({ id: item.id, label: item.label, fromTokens: from.tokens, toTokens: cut.tokens, ...(from.estimated ? { estimated: true } : {}) });
          continue;
        }
      }
      excerptTaken = true;
      const reason = tooLarge ? 'too-large' : 'budget';
      const known = this.validMemo(item, tk, redact);
      if (known?.tokens !== undefined) drop(item, reason, known.tokens);
      else drop(item, reason, Math.max(estimateTokens(item.text), (known?.over ?? -1) + 1), true);
    }
    return report;
  }

  private validMemo(item: ContextItem, tk: Tokenizer, redact: boolean): Memo | undefined {
    const found = this.memo.get(memoKey(item, tk, redact));
    // A version that moved means new text; the same version is still checked against the text,
    // because a selection changes without its document's version changing.
    if (found && (item.version === undefined || found.version === item.version) && found.source === item.text) return found;
    return undefined;
  }

  private memoFor(item: ContextItem, tk: Tokenizer, redact: boolean): Memo {
    const found = this.validMemo(item, tk, redact);
    if (found) return found;
    const fresh: Memo = { source: item.text, version: item.version };
    this.memo.set(memoKey(item, tk, redact), fresh);
    return fresh;
  }

  private factsFor(item: ContextItem): Facts {
    let f = this.facts.get(item.id);
    if (f?.source !== item.text) {
      f = { source: item.text, binary: looksBinary(item.text) };
      this.facts.set(item.id, f);
    }
    return f;
  }

  private prepare(memo: Memo, redact: boolean): RedactionResult {
    memo.prepared ??= redact ? this.redactor.redact(memo.source) : { text: memo.source, count: 0, spans: [], mapOffset: (o) => o };
    return memo.prepared;
  }

  private countWithin(memo: Memo, text: string, limit: number, tk: Tokenizer): number | false {
    if (memo.tokens !== undefined) return memo.tokens <= limit ? memo.tokens : false;
    if (memo.over !== undefined && memo.over >= limit) return false;
    if (tk.countUpTo) {
      const n = tk.countUpTo(text, limit);
      if (n === false) memo.over = limit;
      else memo.tokens = n;
      return n;
    }
    memo.tokens = tk.count(text);
    return memo.tokens <= limit ? memo.tokens : false;
  }

  private cut(memo: Memo, item: ContextItem, avail: number, tk: Tokenizer, redact: boolean, tooLarge: boolean): Cut {
    const around = item.kind === 'activeFile' && item.cursorOffset !== undefined;
    const key = `${avail}:${around ? item.cursorOffset : 'head'}`;
    if (memo.cut?.key === key) return memo.cut;
    const text = item.text;
    const cursor = Math.min(Math.max(0, item.cursorOffset ?? 0), text.length);
    let result: Cut;
    if (!tooLarge) {
      const prepared = this.prepare(memo, redact);
      result = cutPrepared(key, prepared, around ? prepared.mapOffset(cursor) : undefined, avail, tk);
    } else {
      // Too large to prepare whole: prepare a stretch at the head or around the cursor, grown
      // until the excerpt stops at the budget rather than at the stretch's edge.
      for (let reach = avail * REGION_CHARS_PER_TOKEN; ; reach *= 2) {
        const start = around ? safeStart(text, Math.max(0, cursor - reach)) : 0;
        const end = safeEnd(text, around ? cursor + reach : reach);
        const region = text.slice(start, end);
        const prepared = redact ? this.redactor.redact(region) : { text: region, count: 0, spans: [], mapOffset: (o: number) => o };
        result = cutPrepared(key, prepared, around ? prepared.mapOffset(cursor - start) : undefined, avail, tk);
        const whole = start === 0 && end === text.length;
        if (whole || result.tokens >= avail * 0.9 || reach > text.length) break;
      }
    }
    memo.cut = result;
    return result;
  }

  /** Header, fences and separator of an item's block, memoised by what they are made of. */
  private frameTokens(item: ContextItem, tk: Tokenizer, fence: string): number {
    const header = blockHeader(item.label, true);
    const key = `${tk.name}\u0000${header}\u0000${item.languageId ?? ''}\u0000${fence}`;
    let n = this.frames.get(key);
    if (n === undefined) {
      n = tk.count(`${header}\n${fence}${item.languageId ?? ''}\n\n${fence}\n\n`) + FRAME_MARGIN_TOKENS;
      this.frames.set(key, n);
    }
    return n;
  }
}

/** Tokens of the whole (redacted) text for the report: exact when that is cheap. */
function fullTokens(memo: Memo, tk: Tokenizer, tooLarge: boolean, cut: Cut, chars: number): { tokens: number; estimated: boolean } {
  if (memo.tokens !== undefined) return { tokens: memo.tokens, estimated: false };
  if (!tooLarge && memo.prepared && memo.prepared.text.length <= EXACT_REPORT_CHARS) {
    memo.tokens = tk.count(memo.prepared.text);
    return { tokens: memo.tokens, estimated: false };
  }
  const perChar = cut.tokens / Math.max(1, cut.text.length);
  return { tokens: Math.max(cut.tokens + 1, Math.round(chars * perChar)), estimated: true };
}

/** What the memo already knows: the count if it fits, false if it does not, undefined if unknown. */
function knownWithin(memo: Memo, limit: number): number | false | undefined {
  if (memo.tokens !== undefined) return memo.tokens <= limit ? memo.tokens : false;
  if (memo.over !== undefined && memo.over >= limit) return false;
  return undefined;
}

function memoKey(item: ContextItem, tk: Tokenizer, redact: boolean): string {
  return `${tk.name}\u0000${redact ? 1 : 0}\u0000${item.id}`;
}

function kept(item: ContextItem, text: string, tokens: number, truncated: boolean): KeptItem {
  return { id: item.id, kind: item.kind, label: item.label, text, tokens, truncated, ...(item.languageId ? { languageId: item.languageId } : {}) };
}

function cutPrepared(key: string, prepared: RedactionResult, centre: number | undefined, avail: number, tk: Tokenizer): Cut {
  const src = prepared.text;
  let w: TokenWindow;
  if (centre === undefined) {
    const head = tk.truncateCounted ? tk.truncateCounted(src, avail) : countedPrefix(tk, src, avail);
    w = { start: 0, end: head.text.length, tokens: head.tokens };
  } else {
    w = tk.window ? tk.window(src, centre, avail) : fallbackWindow(tk, src, centre, avail);
  }
  const redactions = prepared.spans.filter((s) => s.start < w.end && s.end > w.start).length;
  return { key, text: src.slice(w.start, w.end), tokens: w.tokens, redactions, whole: w.start === 0 && w.end === src.length };
}

function countedPrefix(tk: Tokenizer, text: string, max: number): { text: string; tokens: number } {
  const cut = tk.truncate(text, max);
  return { text: cut, tokens: tk.count(cut) };
}

/** For tokenizers without `window`: about half the budget before the centre, from a line start. */
function fallbackWindow(tk: Tokenizer, text: string, centre: number, max: number): TokenWindow {
  const starts = [lineStart(text, Math.max(0, centre - max * 2)), lineStart(text, centre)];
  let best: TokenWindow = { start: 0, end: 0, tokens: 0 };
  for (const start of starts) {
    const head = countedPrefix(tk, text.slice(start), max);
    best = { start, end: start + head.text.length, tokens: head.tokens };
    if (best.end >= centre) break;
  }
  return best;
}

function lineStart(text: string, offset: number): number {
  if (offset <= 0) return 0;
  const nl = text.lastIndexOf('\n', offset - 1);
  return nl < 0 ? 0 : nl + 1;
}

// Region edges of an over-large text fall on a line break (or at least whitespace), where no
// key-like string can be split in two and slip past the redactor half-seen; a region that starts
// inside a PEM private key block starts at its BEGIN line instead.
const EDGE_SEARCH_CHARS = 8192;

function safeStart(text: string, offset: number): number {
  if (offset <= 0) return 0;
  let start = offset;
  const nl = text.lastIndexOf('\n', offset - 1);
  if (nl >= 0 && offset - nl <= EDGE_SEARCH_CHARS) start = nl + 1;
  else {
    const floor = Math.max(0, offset - EDGE_SEARCH_CHARS);
    while (start > floor && !/\s/.test(text[start - 1])) start -= 1;
  }
  const begin = text.lastIndexOf('-----BEGIN ', start);
  if (begin >= 0 && text.lastIndexOf('-----END ', start) < begin && /PRIVATE KEY/.test(text.slice(begin, begin + 80))) {
    start = lineStart(text, begin);
  }
  return start;
}

function safeEnd(text: string, offset: number): number {
  if (offset >= text.length) return text.length;
  const nl = text.indexOf('\n', offset);
  if (nl >= 0 && nl - offset <= EDGE_SEARCH_CHARS) return nl + 1;
  let end = offset;
  const ceiling = Math.min(text.length, offset + EDGE_SEARCH_CHARS);
  while (end < ceiling && !/\s/.test(text[end])) end += 1;
  return end;
}

function exceedsBytes(facts: Facts, maxBytes: number): boolean {
  const text = facts.source;
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  facts.bytes ??= Buffer.byteLength(text, 'utf8');
  return facts.bytes > maxBytes;
}

/** Control characters other than tab, line feed, form feed, carriage return and escape; U+FFFD. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ODD_CHARS = /[\x00-\x08\x0B\x0E-\x1A\x1C-\x1F\uFFFD]/g;

/**
 * NUL bytes, or many control / replacement characters, in the first 8 KB. Runs for every item on
 * every prune (200 open tabs: 200 scans), so it is a native search and regex, not a char loop.
 */
function looksBinary(text: string): boolean {
  const sample = text.length > BINARY_SAMPLE_CHARS ? text.slice(0, BINARY_SAMPLE_CHARS) : text;
  if (sample.includes('\u0000')) return true;
  const odd = sample.match(ODD_CHARS)?.length ?? 0;
  return odd > Math.max(4, sample.length * 0.1);
}

/** For texts never counted: about four characters per token. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function blockHeader(label: string, truncated: boolean): string {
  return truncated ? `${label} (excerpt)` : label;
}

const PLAIN_FENCE = '```';

function fenceFor(text: string): string {
  if (!text.includes('```')) return PLAIN_FENCE;
  let longest = 0;
  for (const m of text.matchAll(/`{3,}/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** One string for the prompt: each item as a fenced block headed by its label (and language). */
export function renderContext(kept: KeptItem[]): string {
  return kept
    .map((k) => {
      const fence = fenceFor(k.text);
      const body = k.text.endsWith('\n') ? k.text : `${k.text}\n`;
      return `${blockHeader(k.label, k.truncated)}\n${fence}${k.languageId ?? ''}\n${body}${fence}`;
    })
    .join('\n\n');
}
