// How long activation took, for `npm run bench`: when MAOF_BENCH_ACTIVATION_FILE is set, writes
// VS Code's own code-loading marks for this extension and the time spent in activate() to it, and
// then how long loading and starting the host proper took (after activation, see extension.ts).
import { writeFileSync } from 'node:fs';

interface PerfMark {
  name: string;
  startTime: number;
}

/** The extension host keeps its performance marks (Date.now() based) on this global. */
function hostMarks(): PerfMark[] {
  const holder = (globalThis as { MonacoPerformanceMarks?: { getMarks?: () => unknown } }).MonacoPerformanceMarks;
  const marks = holder?.getMarks?.();
  if (!Array.isArray(marks)) return [];
  return marks.filter((m): m is PerfMark => typeof m === 'object' && m !== null && typeof (m as PerfMark).name === 'string' && typeof (m as PerfMark).startTime === 'number');
}

let report: Record<string, unknown> = {};

function write(fields: Record<string, unknown>): void {
  const file = process.env.MAOF_BENCH_ACTIVATION_FILE;
  if (!file) return;
  report = { ...report, ...fields };
  writeFileSync(file, JSON.stringify(report));
}

/** Call at the end of activate() with the performance.now() taken at its start. Never throws. */
export function recordActivation(extensionId: string, activateStartedAt: number): void {
  if (!process.env.MAOF_BENCH_ACTIVATION_FILE) return;
  try {
    const activateMs = performance.now() - activateStartedAt;
    const marks = hostMarks();
    const at = (name: string): number | undefined => marks.find((m) => m.name === `code/extHost/${name}/${extensionId}`)?.startTime;
    const willLoad = at('willLoadExtensionCode');
    const didLoad = at('didLoadExtensionCode');
    const codeLoadingMs = willLoad !== undefined && didLoad !== undefined ? didLoad - willLoad : undefined;
    report = {};
    write({ extensionId, activateMs, codeLoadingMs, marks: marks.filter((m) => m.name.endsWith(`/${extensionId}`)) });
  } catch {
    // a benchmark aid must never disturb activation
  }
}

/** Call when the host proper has loaded and started, with the time that took. Never throws. */
export function recordHostStart(hostStartMs: number): void {
  try {
    write({ hostStartMs });
  } catch {
    // as above
  }
}
