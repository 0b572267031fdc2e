// The one interface the orchestration core uses to call a model, whatever the provider: one
// request in, one reply with billed usage out, or a MaofError. SDKs load on first use only.
import type { AgentConfig } from '../config/schema';
import type { ChatMessage, Usage } from '../types';
import { AnthropicProvider } from './anthropicProvider';
import { OpenAIProvider } from './openaiProvider';

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
  /** Clock time at which the call is aborted with TIMEOUT whatever its progress (the request's retry.maxTotalMs). */
  deadline?: number;
}

export interface ProviderResponse {
  text: string;
  usage: Usage;
  finishReason: 'stop' | 'length' | 'other';
  model: string;
}

export interface Provider {
  readonly kind: 'openai' | 'anthropic';
  /** Rejects only with a MaofError. */
  complete(req: ProviderRequest): Promise<ProviderResponse>;
}

let openai: OpenAIProvider | undefined;
let anthropic: AnthropicProvider | undefined;

/** The shared adapter for a provider (one per process, so SDK clients and connections are reused). */
export function getProvider(kind: 'openai' | 'anthropic'): Provider {
  if (kind === 'openai') return (openai ??= new OpenAIProvider());
  return (anthropic ??= new AnthropicProvider());
}
