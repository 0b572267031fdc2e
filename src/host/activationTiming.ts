// How long activation took, for `npm run bench`: when MAOF_BENCH_ACTIVATION_FILE is set, writes
// VS Code's own code-loading marks for this extension and the time spent in activate() to it.
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

/** Call at the end of activate() with the performance.now() taken at its start. Never throws. */
export function recordActivation(extensionId: string, activateStartedAt: number): void {
  const file = process.env.MAOF_BENCH_ACTIVATION_FILE;
  if (!file) return;
  try {
    const activateMs = performance.now() - activateStartedAt;
    const marks = hostMarks();
    const at = (name: string): number | undefined => marks.find((m) => m.name === `code/extHost/${name}/${extensionId}`)?.startTime;
    const willLoad = at('willLoadExtensionCode');
    const didLoad = at('didLoadExtensionCode');
    const codeLoadingMs = willLoad !== undefined && didLoad !== undefined ? didLoad - willLoad : undefined;
    writeFileSync(file, JSON.stringify({ extensionId, activateMs, codeLoadingMs, marks: marks.filter((m) => m.name.endsWith(`/${extensionId}`)) }));
  } catch {
    // a benchmark aid must never disturb activation
  }
}
