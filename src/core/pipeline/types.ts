// The request and result types every stage of the pipeline shares. They live beside the stages,
// not in the composer (orchestrator.ts), so that no stage imports back up into it.
import type { MaofError } from '../errors';
import type { AttemptOutcome } from '../events';
import type { ChatMessage, ToolCall, ToolDefinition, ToolMode, Usage } from '../types';
import type { ContextItem, PruneReport } from '../context/contextPruner';
import type { Classification } from '../router/taskClassifier';
import type { StickyPlan } from '../router/stickyRoutes';
import type { AnalysisResult } from '../structuredOutput';

export interface RunRequest {
  /**
   * The conversation: for MAOF's own surfaces one user turn (`[userTurn(text)]`); for VS Code's
   * Chat and vscode.lm the whole conversation. Validation, `auto` classification and session
   * memory read the last user turn's text.
   */
  messages: ChatMessage[];
  /**
   * 'task' (default): the task's system prompt and structured output spec, the session history
   * (`sessionId`), then `messages` with the editor context glued to the last turn. 'own': the
   * conversation brings its own instructions (VS Code's Chat, vscode.lm) and is sent as it is.
   */
  instructions?: 'task' | 'own';
  /** A task name, or 'auto' (default) to classify the prompt. */
  task?: string;
  /** Pin one agent: retries, but no fallback to others. */
  agentId?: string;
  /** Extra system instructions for this request. */
  system?: string;
  context?: ContextItem[];
  sessionId?: string;
  /** Requests that share a prefix without a chat session (a chain run): their prompts are cached as one conversation's. */
  conversationId?: string;
  stream?: boolean;
  onDelta?: (text: string) => void;
  /** A new attempt started after deltas were delivered: the consumer must discard them. */
  onRestart?: (agentId: string) => void;
  signal?: AbortSignal;
  temperature?: number;
  maxOutputTokens?: number;
  /** Ask for the task's structured output (default: whenever the task has a schema). */
  structured?: boolean;
  requestId?: string;
  /** Tools the model may call; a call comes back in `toolCalls` and through `onToolCall`. */
  tools?: readonly ToolDefinition[];
  toolMode?: ToolMode;
  onToolCall?: (call: ToolCall) => void;
  /** Who asked, for the dashboard's spend by source ("MAOF chat", "commands", "VS Code Chat", "CLI"…). */
  source?: string;
}

export interface AttemptRecord {
  agent: string;
  outcome: AttemptOutcome;
  status?: number;
  waitMs?: number;
  /** Time at the provider, from sending to the answer or the failure; absent when nothing was sent. */
  elapsedMs?: number;
}

export interface RunBase {
  requestId: string;
  task: string;
  attempts: AttemptRecord[];
  durationMs: number;
  costUsd: number;
  usage: Usage;
  classification?: Classification;
  /** What the context pruning kept, dropped and truncated for the agent that answered last. */
  pruned?: PruneReport;
  /** A provider reported no usage: `usage` and `costUsd` are counted with the tokenizer, not billed figures. */
  usageEstimated?: boolean;
  /** What the provider's prompt cache saved (cache reads less the write premium), when it did anything. */
  promptCacheSavedUsd?: number;
}

export interface RunSuccess extends RunBase {
  ok: true;
  agentId: string;
  model: string;
  text: string;
  structured?: AnalysisResult;
  /** Answered from MAOF's own response cache (no provider call): `responseCacheSavedUsd` is what the call cost. */
  cached: boolean;
  responseCacheSavedUsd?: number;
  /** The tools the model asked to call, when the request offered tools. */
  toolCalls?: ToolCall[];
}

export interface RunFailure extends RunBase {
  ok: false;
  error: MaofError;
}

export type RunResult = RunSuccess | RunFailure;

export interface FanOutResult {
  results: Array<{ agentId: string; result: RunResult }>;
  merged?: RunResult;
}

export interface ChainStep {
  /** Shown in progress reports. */
  name?: string;
  task?: string;
  agentId?: string;
  /** May contain {{input}} (the chain's input) and {{previous}} (the previous step's output). */
  prompt: string;
}

export interface ChainResult {
  ok: boolean;
  steps: Array<{ name: string; result: RunResult }>;
  text?: string;
  costUsd: number;
}

export interface RoutedRequest extends StickyPlan {
  /** The conversation a routed turn belongs to (sticky routing, prompt caching); none when pinned or one-shot. */
  conversationKey: string | undefined;
}
