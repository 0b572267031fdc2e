// Pure text helpers of the inline flow (no vscode import, unit-tested in plain Node): pulling code
// out of a model's answer, fitting it to where it goes, and tracking a range through edits.

/** The code inside a markdown fence wrapped around (or alone within) the answer. */
export function stripCodeFence(answer: string): string {
  const trimmed = answer.trim();
  const whole = /^(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n?\1$/.exec(trimmed);
  if (whole) return whole[2] ?? '';
  const blocks = [...trimmed.matchAll(/(^|\n)(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n?\2(?=\n|$)/g)];
  if (blocks.length === 1) return blocks[0][3] ?? '';
  return answer.replace(/^(?:[ \t]*\r?\n)+/, '').replace(/\s+$/, '');
}

/** Prose keeps inner fences (they may be content); only a fence around everything is removed. */
export function stripWholeFence(answer: string): string {
  const trimmed = answer.trim();
  const whole = /^(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n?\1$/.exec(trimmed);
  return whole ? (whole[2] ?? '') : trimmed;
}

function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

/**
 * Makes the answer fit where it goes: continues the indentation of the cursor line for
 * multi-line code written at an indented cursor, and keeps a replaced block's final line break.
 */
export function fitToRange(text: string, original: string, linePrefix: string): string {
  let out = text;
  if (original === '' && /^[ \t]+$/.test(linePrefix)) {
    const lines = out.split('\n');
    const rest = lines.slice(1).filter((l) => l.trim() !== '');
    const minIndent = rest.length ? Math.min(...rest.map((l) => leadingWhitespace(l).length)) : 0;
    const first = (lines[0] ?? '').trimStart();
    if (rest.length > 0 && minIndent < linePrefix.length) {
      out = [first, ...lines.slice(1).map((l) => (l.trim() === '' ? l : linePrefix + l))].join('\n');
    } else {
      out = [first, ...lines.slice(1)].join('\n');
    }
  }
  if (/\r?\n$/.test(original) && !/\n$/.test(out)) out += '\n';
  return out;
}

/** Indents every line of a doc comment to the declaration's indentation; ends with a line break. */
export function indentComment(comment: string, indent: string): string {
  const lines = stripCodeFence(comment).replace(/\r\n/g, '\n').split('\n');
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  const common = nonEmpty.length ? Math.min(...nonEmpty.map((l) => leadingWhitespace(l).length)) : 0;
  return lines.map((l) => (l.trim() === '' ? '' : indent + l.slice(common))).join('\n') + '\n';
}

/** A continuation starts on a new paragraph after a paragraph, else after a space. */
export function joinContinuation(before: string, next: string): string {
  if (/\n\s*$/.test(before)) return next;
  return /[.!?:]\s*$/.test(before) && next.includes('\n') ? `\n\n${next}` : ` ${next}`;
}

export interface OffsetRange {
  start: number;
  end: number;
}

export interface ContentChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/** Adjusts a tracked [start, end) through one content change; `touched` when they overlap. */
export function shiftRange(range: OffsetRange, change: ContentChange): OffsetRange & { touched: boolean } {
  const changeEnd = change.rangeOffset + change.rangeLength;
  const delta = change.text.length - change.rangeLength;
  // Typing right before or right after the range is not an edit of it.
  if (changeEnd <= range.start) return { start: range.start + delta, end: range.end + delta, touched: false };
  if (change.rangeOffset >= range.end) return { ...range, touched: false };
  const start = Math.min(range.start, change.rangeOffset);
  const end = changeEnd >= range.end ? change.rangeOffset + change.text.length : range.end + delta;
  return { start, end, touched: true };
}
