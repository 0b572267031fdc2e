// Classifies a free-form request into a task kind for `auto` routing: fast local heuristics
// first; an optional classifier agent is consulted only when the heuristics are unsure.
import type { TaskConfig } from '../config/schema';

export interface Classification {
  task: string;
  /** 0..1: how sure the heuristics are. */
  confidence: number;
  /** Why, in a few words (shown in the chat and the log). */
  reason: string;
  source: 'heuristic' | 'agent' | 'default';
}

const CODE_SIGNALS: RegExp[] = [
  /```/,
  /\b(function|def|class|interface|const|let|var|import|return|async|await)\b\s*[\w({]/,
  /[{};]\s*$/m,
  /\b(implement|refactor|generate|code|unit tests?|bug|stack ?trace|compile|regex|sql|endpoint|api)\b/i,
  /\b(write|create|add|make) (a |an |the )?(function|method|class|test|script|component|hook|query|cli)\b/i,
];
const WRITING_SIGNALS: RegExp[] = [
  /\b(commit message|docstring|doc comment|jsdoc|readme|changelog|release notes|email|blog|essay|paragraph)\b/i,
  /\b(rewrite|rephrase|proofread|summari[sz]e|translate|polish|make (it|this) (clearer|shorter))\b/i,
  /\b(write|draft) (a |an |the )?(doc|docs|documentation|comment|message|post|description|story|letter)\b/i,
];
const ANALYSIS_SIGNALS: RegExp[] = [
  /\b(explain|analy[sz]e|review|audit|assess|evaluate|why does|why is|what does|how does)\b/i,
  /\b(security|vulnerab\w*|complexity|performance issue|code smell|race condition|memory leak|find (the )?(bugs?|issues|problems))\b/i,
  /\?\s*$/,
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const BUILTIN_TASK_NAMES = new Set(['code', 'writing', 'analysis']);

const keywordCache = new Map<string, RegExp>();
function keywordRegExp(keyword: string): RegExp {
  let re = keywordCache.get(keyword);
  if (!re) {
    re = new RegExp(`\\b${escapeRegExp(keyword.toLowerCase())}`, 'i');
    keywordCache.set(keyword, re);
  }
  return re;
}

/** Scores each known task; built-in tasks get structural signals, every task its keywords. */
export function classifyTask(prompt: string, tasks: Record<string, TaskConfig>, fallbackTask = 'code'): Classification {
  const text = prompt.length > 4000 ? prompt.slice(0, 4000) : prompt;
  const scores = new Map<string, { score: number; hits: string[] }>();
  const add = (task: string, weight: number, why: string): void => {
    if (!tasks[task]) return;
    const s = scores.get(task) ?? { score: 0, hits: [] };
    s.score += weight;
    if (s.hits.length < 3) s.hits.push(why);
    scores.set(task, s);
  };
  CODE_SIGNALS.forEach((re, i) => re.test(text) && add('code', i === 0 ? 2 : 1, i === 0 ? 'code block' : 'code wording'));
  WRITING_SIGNALS.forEach((re) => re.test(text) && add('writing', 1.5, 'writing wording'));
  ANALYSIS_SIGNALS.forEach((re, i) => re.test(text) && add('analysis', i === 2 ? 0.5 : 1.5, i === 2 ? 'a question' : 'analysis wording'));
  for (const [name, task] of Object.entries(tasks)) {
    // A user's own task has no structural signals, so its keywords must outweigh ours.
    const weight = BUILTIN_TASK_NAMES.has(name) ? 1 : 2;
    for (const kw of task.keywords) if (keywordRegExp(kw).test(text)) add(name, weight, `"${kw}"`);
  }

  const ranked = [...scores.entries()].sort((a, b) => b[1].score - a[1].score);
  const best = ranked[0];
  if (!best || best[1].score <= 0) {
    const task = tasks[fallbackTask] ? fallbackTask : (Object.keys(tasks)[0] ?? fallbackTask);
    return { task, confidence: 0.2, reason: 'no clear signal', source: 'default' };
  }
  const second = ranked[1]?.[1].score ?? 0;
  const margin = (best[1].score - second) / best[1].score;
  const confidence = Math.min(0.95, 0.4 + 0.55 * margin * Math.min(1, best[1].score / 3));
  return { task: best[0], confidence: Math.round(confidence * 100) / 100, reason: best[1].hits.join(', '), source: 'heuristic' };
}

/** The prompt sent to a classifier agent; its answer must be one task name. */
export function classifierPrompt(prompt: string, tasks: Record<string, TaskConfig>): string {
  const list = Object.entries(tasks)
    .map(([name, t]) => `- ${name}: ${t.description || name}`)
    .join('\n');
  return `Classify the request into exactly one task kind. Answer with the task name only.\n\nTask kinds:\n${list}\n\nRequest:\n${prompt.slice(0, 2000)}`;
}

/** Reads a classifier agent's answer; undefined when it named no known task. */
export function parseClassifierAnswer(answer: string, tasks: Record<string, TaskConfig>): string | undefined {
  const word = answer.trim().toLowerCase().replace(/[^a-z0-9-\s]/g, ' ').split(/\s+/).find((w) => tasks[w]);
  return word;
}
