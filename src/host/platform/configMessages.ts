// How settings problems are worded for people: pure, unit-tested in plain Node.
import type { ConfigIssue } from '../../core/config/schema';

/** "maof.retry.maxAttempts — Too small: …; using the default" */
export function describeIssue(issue: ConfigIssue): string {
  return `maof.${issue.path} — ${issue.message}`;
}

export function warningText(issues: readonly ConfigIssue[]): string {
  if (issues.length === 1) return `MAOF: invalid setting ${describeIssue(issues[0])}.`;
  const shown = issues.slice(0, 4).map(describeIssue).join('; ');
  const more = issues.length > 4 ? `; and ${issues.length - 4} more (see the MAOF log)` : '';
  return `MAOF: ${issues.length} invalid settings — ${shown}${more}.`;
}
