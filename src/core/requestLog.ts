// The last requests the core answered, in memory, with the route they had, the agents they tried
// and what each attempt came to: "which agent answered, and why" for the status bar's list and
// `@maof /route`. The trail is read generically (any attempt outcome, present or future, is shown
// by its words), so a new outcome needs no change here.
import { errorLabel } from '../shared/errorVocabulary';
import type { AttemptRecord, RunResult } from './orchestrator';

export interface RequestRecord {
  requestId: string;
  /** When it finished (ms since epoch). */
  at: number;
  /** Who asked ("VS Code Chat", "MAOF chat", an extension's name…); "other" when nothing was said. */
  source: string;
  task: string;
  ok: boolean;
  /** The agent that answered (ok) or the last one tried. */
  agentId?: string;
  model?: string;
  /** The agents the request could use, in order (one when pinned). */
  route: string[];
  pinned: boolean;
  attempts: AttemptRecord[];
  costUsd: number;
  cached: boolean;
  durationMs: number;
  errorCode?: string;
}

export const REQUEST_LOG_SIZE = 20;

export class RequestLog {
  private readonly records: RequestRecord[] = [];

  constructor(private readonly size = REQUEST_LOG_SIZE) {}

  add(source: string | undefined, route: string[], pinned: boolean, result: RunResult): void {
    const last = result.attempts.at(-1)?.agent;
    this.records.unshift({
      requestId: result.requestId,
      at: Date.now(),
      source: source ?? 'other',
      task: result.task,
      ok: result.ok,
      agentId: result.ok ? result.agentId : last,
      model: result.ok ? result.model : undefined,
      route,
      pinned,
      attempts: result.attempts.map((a) => ({ ...a })),
      costUsd: result.costUsd,
      cached: result.ok && result.cached,
      durationMs: result.durationMs,
      errorCode: result.ok ? undefined : result.error.code,
    });
    if (this.records.length > this.size) this.records.length = this.size;
  }

  /** Newest first; copies. */
  list(): RequestRecord[] {
    return this.records.map((r) => ({ ...r, route: [...r.route], attempts: [...r.attempts] }));
  }
}

/** One attempt in words: "gpt-4.1: rate limited (429)", "claude: answered". */
export function attemptWords(a: AttemptRecord): string {
  const what = a.outcome === 'ok' ? 'answered' : a.outcome === 'cached' ? 'answered from the cache' : a.outcome === 'skipped' ? 'skipped' : errorLabel(a.outcome).toLowerCase();
  const status = a.status !== undefined ? ` (${a.status})` : '';
  return `${a.agent}: ${what}${status}`;
}

/**
 * Why this agent answered, in one sentence: the route's primary, a fallback and from what, a
 * pinned agent, the cache, or why nothing answered.
 */
export function whyWords(r: RequestRecord): string {
  if (!r.ok) return `no agent answered (${errorLabel(r.errorCode ?? 'UPSTREAM').toLowerCase()}) after ${trail(r)}`;
  if (r.cached) return `answered from MAOF's response cache (${r.agentId})`;
  if (r.pinned) return `the agent was picked by name (no fallback)${retriesOf(r)}`;
  const failed = r.attempts.filter((a) => a.agent !== r.agentId && a.outcome !== 'ok');
  const primary = r.route[0];
  if (r.agentId === primary || failed.length === 0) return `the ${r.task} route's primary${retriesOf(r)}`;
  const position = r.route.indexOf(r.agentId ?? '');
  const from = counted(failed.map(attemptWords)).join('; ');
  return `fallback${position > 0 ? ` #${position}` : ''} of the ${r.task} route, after ${from}`;
}

function retriesOf(r: RequestRecord): string {
  const failed = r.attempts.filter((a) => a.agent === r.agentId && a.outcome !== 'ok' && a.outcome !== 'cached');
  return failed.length === 0 ? '' : `, after ${failed.length} failed attempt${failed.length === 1 ? '' : 's'} (${counted(failed.map(attemptWords)).join('; ')})`;
}

/** The attempts in order, repeats folded: "gpt: rate-limited (429) ×2 → claude: answered". */
export function trail(r: Pick<RequestRecord, 'attempts'>): string {
  return r.attempts.length === 0 ? 'no attempt' : counted(r.attempts.map(attemptWords), true).join(' → ');
}

/** Equal words once, with "×n" when they came n times (only when next to each other, with `adjacent`). */
function counted(words: readonly string[], adjacent = false): string[] {
  const out: Array<{ text: string; n: number }> = [];
  for (const w of words) {
    const same = adjacent ? (out.at(-1)?.text === w ? out.at(-1) : undefined) : out.find((o) => o.text === w);
    if (same) same.n++;
    else out.push({ text: w, n: 1 });
  }
  return out.map((o) => (o.n > 1 ? `${o.text} ×${o.n}` : o.text));
}
