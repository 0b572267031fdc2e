// Built-in agents, tasks and routes: a working setup with only an OpenAI and/or Anthropic key.
// Each task has a primary and a fallback from the other provider, so one provider's outage or
// missing key never stops a task.
import type { AgentInput, TaskConfig } from './schema';

export const BUILTIN_AGENTS: AgentInput[] = [
  {
    id: 'claude-sonnet',
    provider: 'anthropic',
    model: 'claude-sonnet-5-5',
    contextWindow: 1_000_000,
    maxOutputTokens: 8192,
    description: 'Anthropic Claude Sonnet 5.5 — strongest at code and analysis',
  },
  {
    id: 'claude-haiku',
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    contextWindow: 200_000,
    maxOutputTokens: 8192,
    description: 'Anthropic Claude Haiku 4.5 — fast and cheap',
  },
  {
    id: 'gpt-4.1',
    provider: 'openai',
    model: 'gpt-4.1',
    contextWindow: 1_047_576,
    maxOutputTokens: 8192,
    description: 'OpenAI GPT-4.1 — long context, good writer and coder',
  },
  {
    id: 'gpt-4.1-mini',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    contextWindow: 1_047_576,
    maxOutputTokens: 8192,
    description: 'OpenAI GPT-4.1 mini — fast and cheap',
  },
];

export const BUILTIN_TASKS: Record<string, Partial<TaskConfig>> = {
  code: {
    description: 'Generate or change code',
    temperature: 0,
    keywords: ['code', 'function', 'implement', 'refactor', 'fix', 'bug', 'class', 'method', 'test', 'compile', 'typescript', 'python', 'regex', 'sql', 'script'],
  },
  writing: {
    description: 'Docs, comments, commit messages and prose',
    temperature: 0.7,
    keywords: ['write', 'docs', 'documentation', 'comment', 'docstring', 'readme', 'commit message', 'email', 'rewrite', 'summarize', 'summarise', 'blog', 'changelog', 'proofread'],
  },
  analysis: {
    description: 'Explain, review and find problems in code',
    temperature: 0,
    keywords: ['analyse', 'analyze', 'explain', 'review', 'why', 'what does', 'security', 'performance', 'complexity', 'audit', 'find issues', 'vulnerab'],
  },
  // VS Code's Chat sends its background work here (chat titles, summaries, commit messages, rename
  // suggestions) once `chat.utilityModel` names `maof/utility`, and MCP servers' sampling may too:
  // many small requests, so the small models. No keywords: auto never classifies a question as one.
  utility: {
    description: 'Small background work: chat titles, summaries, commit messages, renames',
    temperature: 0,
    keywords: [],
  },
};

export const BUILTIN_ROUTES: Record<string, string[]> = {
  code: ['claude-sonnet', 'gpt-4.1', 'claude-haiku'],
  writing: ['gpt-4.1', 'claude-sonnet', 'gpt-4.1-mini'],
  analysis: ['claude-sonnet', 'gpt-4.1', 'gpt-4.1-mini'],
  utility: ['claude-haiku', 'gpt-4.1-mini'],
};
