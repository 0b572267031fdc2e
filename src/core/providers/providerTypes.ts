// The contract between the core and a provider adapter: one request in, one reply with billed
// usage out, or a MaofError. Kept apart from the factory (provider.ts) so adapters import no loop.
import type { AgentConfig } from '../config/schema';
import type { ChatMessage, ToolCall, ToolDefinition, ToolMode, Usage } from '../types';
import type { PromptCacheRequest } from './promptCache';

export interface ProviderRequest {
  /** provider, model, baseUrl, timeoutMs, headers, temperature... */
  agent: AgentConfig;
  apiKey: string;
  /** System messages first; adapters map them to each API's shape. */
  messages: ChatMessage[];
  maxOutputTokens: number;
  temperature?: number;
  stream: boolean;
  /** Called for each streamed text delta. */
  onDelta?: (text: string) => void;
  signal: AbortSignal;
  /** Ask for a JSON object (OpenAI response_format json_object; Anthropic: no prefill, just pass). */
  json?: boolean;
  /** Tools the model may call, and whether it must. */
  tools?: readonly ToolDefinition[];
  toolMode?: ToolMode;
  /** Called for each whole tool call as soon as the stream has finished it. */
  onToolCall?: (call: ToolCall) => void;
  /**
   * Called for each streamed event that carries the model's output — text, a tool call's pieces,
   * thinking or reasoning — but not for the server's own events (Anthropic's message_start and
   * ping, OpenAI's role-only first chunk): the deadlines' sign of life (resilience/deadlines.ts).
   */
  onProgress?: () => void;
  /**
   * Set when the request is a turn of a conversation that will be read again and the agent allows
   * prompt caching: Anthropic gets cache breakpoints, OpenAI a prompt_cache_key. A one-shot request
   * gets neither (a cache write costs more than plain input).
   */
  promptCache?: PromptCacheRequest;
  /** Clock time at which the call is aborted with TIMEOUT whatever its progress (the request's retry.maxTotalMs). */
  deadline?: number;
}

export interface ProviderResponse {
  text: string;
  usage: Usage;
  /** `filtered`: the provider's content filter stopped the answer; `refused`: the model declined. */
  finishReason: 'stop' | 'length' | 'tool_calls' | 'filtered' | 'refused' | 'other';
  model: string;
  /** The tools the model asked to call (in order), when it did. */
  toolCalls?: ToolCall[];
  /** The provider reported no usage: `usage` is our estimate (the orchestrator recounts it with the tokenizer). */
  usageEstimated?: boolean;
}

export interface Provider {
  readonly kind: 'openai' | 'anthropic';
  /** Rejects only with a MaofError. */
  complete(req: ProviderRequest): Promise<ProviderResponse>;
}
