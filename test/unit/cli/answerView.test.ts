// The terminal view of `maof ask`: a restarted attempt's partial text is erased (rows counted on the
// terminal's width), a note stands in until the new text comes, and text that scrolled off the
// screen is left in place with the note below it. Rendered by xterm's headless terminal.
import assert from 'node:assert/strict';
import { Terminal } from '@xterm/headless';
import { AnswerView, rowsOf } from '../../../src/cli/answerView';

async function screen(cols: number, rows: number, drive: (view: AnswerView) => void): Promise<string[]> {
  const term = new Terminal({ cols, rows, scrollback: 100, allowProposedApi: true, convertEol: true });
  let out = '';
  drive(new AnswerView({ write: (s) => (out += s), columns: cols, rows }));
  await new Promise<void>((resolve) => term.write(out, resolve));
  const lines: string[] = [];
  const b = term.buffer.active;
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
  term.dispose();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

describe('AnswerView (maof ask on a terminal)', () => {
  it('counts the rows text takes, wrapped lines included', () => {
    assert.equal(rowsOf('', 10), 1);
    assert.equal(rowsOf('0123456789', 10), 1);
    assert.equal(rowsOf('0123456789a', 10), 2);
    assert.equal(rowsOf('ab\n\ncd', 10), 3);
  });

  it('erases a partial answer that wrapped over several rows; the screen ends with the final answer', async () => {
    const lines = await screen(20, 10, (v) => {
      v.delta('first attempt that wraps over ');
      v.delta('three rows\nand a line');
      v.restart('gpt');
      v.delta('final answer');
    });
    assert.deepEqual(lines, ['final answer']);
  });

  it('shows the restart note until the new attempt writes', async () => {
    const lines = await screen(80, 10, (v) => {
      v.delta('partial');
      v.restart('claude');
    });
    assert.deepEqual(lines, ['↻ the answer was interrupted — retrying with claude…']);
  });

  it('leaves text that scrolled off the screen, with the note as the line the answer restarts below', async () => {
    const lines = await screen(20, 4, (v) => {
      v.delta('1\n2\n3\n4\n5\n6');
      v.restart('gpt');
      v.delta('final');
    });
    assert.equal(lines[lines.length - 1], 'final');
    assert.ok(lines.some((l) => l.startsWith('↻ the answer was')), lines.join('|'));
  });
});
