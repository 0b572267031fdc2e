// Wraps any log sink so that no API key ever reaches it: known key values are replaced exactly,
// key-looking strings by pattern.
import { redactKnownValues, redactSecrets } from '../context/secretRedactor';
import type { Logger } from '../ports';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface LogSink {
  (level: LogLevel, line: string): void;
}

function render(value: unknown): string {
  if (value instanceof Error) {
    const detail = (value as { detail?: unknown }).detail;
    return `${value.name}: ${value.message}${typeof detail === 'string' ? ` (${detail})` : ''}`;
  }
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Removes known keys and key-looking strings from a line. */
export function scrub(line: string, knownSecrets: readonly string[]): string {
  const known = knownSecrets.length > 0 ? redactKnownValues(line, [...knownSecrets]) : line;
  return redactSecrets(known).text;
}

export function createRedactingLogger(sink: LogSink, opts: { level?: LogLevel; knownSecrets?: () => readonly string[] } = {}): Logger & { setLevel(level: LogLevel): void } {
  let min = ORDER[opts.level ?? 'info'];
  const write = (level: LogLevel, message: unknown, args: unknown[]): void => {
    if (ORDER[level] < min) return;
    const text = [message, ...args].map(render).join(' ');
    sink(level, scrub(text, opts.knownSecrets?.() ?? []));
  };
  return {
    trace: (m, ...a) => write('trace', m, a),
    debug: (m, ...a) => write('debug', m, a),
    info: (m, ...a) => write('info', m, a),
    warn: (m, ...a) => write('warn', m, a),
    error: (m, ...a) => write('error', m, a),
    setLevel: (level) => {
      min = ORDER[level];
    },
  };
}
