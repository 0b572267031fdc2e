// How `maof ask` shows a streamed answer on a terminal: deltas as they come, and when an attempt is
// restarted (a cut stream retried, a fallback) the partial text is erased so that the screen ends
// with the final answer alone. A pipe or a file never sees deltas: main() prints the final text.

/** Cursor up N rows, to column 0, and clear to the end of the screen. */
function eraseRows(rows: number): string {
  return `\r${rows > 1 ? `\x1b[${rows - 1}A` : ''}\x1b[J`;
}

/**
 * Rows `text` takes on a terminal `columns` wide, starting at column 0. Counts code points, so
 * wide characters (CJK, emoji) can be under-counted; the erase then leaves a line or two behind.
 */
export function rowsOf(text: string, columns: number): number {
  const width = Math.max(1, columns);
  let rows = 0;
  for (const line of text.split('\n')) rows += Math.max(1, Math.ceil([...line].length / width));
  return rows;
}

export interface AnswerViewOptions {
  write: (s: string) => void;
  columns: number;
  /** Rows of the screen: text that scrolled out of it cannot be erased. */
  rows: number;
}

export class AnswerView {
  /** What this attempt has shown so far. */
  private shown = '';
  /** A restart note on screen, erased when the new attempt's first text comes. */
  private note: string | undefined;

  constructor(private readonly o: AnswerViewOptions) {}

  delta(text: string): void {
    if (this.note !== undefined) {
      this.o.write(eraseRows(rowsOf(this.note, this.o.columns)));
      this.note = undefined;
    }
    this.shown += text;
    this.o.write(text);
  }

  /** A new attempt starts: erase what the last one showed and say so until the new text comes. */
  restart(agentId: string): void {
    const note = `↻ the answer was interrupted — retrying with ${agentId}…`;
    const rows = rowsOf(this.shown, this.o.columns);
    if (rows < this.o.rows) {
      this.o.write(`${this.shown ? eraseRows(rows) : ''}${note}`);
      this.note = note;
    } else {
      // Scrolled beyond the screen, so it cannot be erased: the note stays as the line the answer restarts below.
      this.o.write(`\n\n${note}\n`);
    }
    this.shown = '';
  }
}
