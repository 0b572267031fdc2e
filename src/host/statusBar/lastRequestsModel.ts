// The status bar's "last requests" list: for each of the last requests (VS Code's Chat, other
// extensions through the Language Model API, MAOF's own surfaces), the agent that answered, why
// (route primary, fallback and from what, pinned, cache, breaker, deadline — read from the
// attempts trail) and what it cost. No vscode import: tested in Node.
import { formatUsd } from '../../core/cost/costCalculator';
import { trail, whyWords, type RequestRecord } from '../../core/requestLog';

export interface LastRequestItem {
  label: string;
  description: string;
  /** Why this agent: one line, short enough for the quick pick. */
  detail: string;
  requestId: string;
  /** The whole story, shown when the row is picked: who asked, why, each attempt, cost and time. */
  explanation: string;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

/** One request as a quick-pick row: "✓ claude-sonnet · $0.0021", "VS Code Chat · code · 12 s ago", why. */
export function lastRequestItem(r: RequestRecord, now: number): LastRequestItem {
  const icon = r.ok ? '$(check)' : '$(error)';
  const who = r.ok ? (r.agentId ?? '?') : 'no answer';
  const why = capitalised(whyWords(r));
  const answered = r.ok ? `${r.agentId ?? '?'}${r.model ? ` (${r.model})` : ''} answered` : 'No agent answered';
  return {
    label: `${icon} ${who} · ${formatUsd(r.costUsd)}`,
    description: `${r.source} · ${r.task} · ${ago(now - r.at)}`,
    detail: why,
    requestId: r.requestId,
    explanation: [
      `${answered} a ${r.task} request from ${r.source}, ${ago(now - r.at)}.`,
      `Why: ${why}.`,
      `Route: ${r.route.join(' → ') || 'none'}${r.pinned ? ' (pinned)' : ''}.`,
      `Attempts: ${trail(r)}.`,
      `Cost: ${formatUsd(r.costUsd)} · ${(r.durationMs / 1000).toFixed(1)} s.`,
    ].join('\n'),
  };
}

export function lastRequestItems(records: readonly RequestRecord[], now: number): LastRequestItem[] {
  return records.map((r) => lastRequestItem(r, now));
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
