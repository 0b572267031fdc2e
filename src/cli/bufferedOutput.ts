// Standard output for the CLI, written in batches: a pipe takes one write system call per
// process.stdout.write, so `maof batch` answering 4,000 lines one by one spent more time in
// writes than in routing them. Text is kept until the current turn of the event loop ends (or
// 64 KB have gathered) and then written at once, in order; nothing waits longer than that turn.

const MAX_BUFFERED_CHARS = 64 * 1024;

export interface BufferedOutput {
  write(text: string): void;
  /** Writes whatever is buffered now. */
  flush(): void;
}

export function bufferedOutput(sink: (text: string) => void, schedule: (fn: () => void) => void = setImmediate): BufferedOutput {
  let parts: string[] = [];
  let chars = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (parts.length === 0) return;
    const text = parts.length === 1 ? parts[0] : parts.join('');
    parts = [];
    chars = 0;
    sink(text);
  };
  return {
    write(text: string): void {
      if (text.length === 0) return;
      parts.push(text);
      chars += text.length;
      if (chars >= MAX_BUFFERED_CHARS) flush();
      else if (!scheduled) {
        scheduled = true;
        schedule(() => {
          if (scheduled) flush();
        });
      }
    },
    flush,
  };
}
