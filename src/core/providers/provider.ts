// The shared provider adapters, one per provider kind. SDKs load on first use only.
import { AnthropicProvider } from './anthropicProvider';
import { OpenAIProvider } from './openaiProvider';
import type { Provider } from './providerTypes';

// The contract lives in providerTypes.ts, which the adapters import without importing this factory back.
export type { Provider, ProviderRequest, ProviderResponse } from './providerTypes';

let openai: OpenAIProvider | undefined;
let anthropic: AnthropicProvider | undefined;

/** The shared adapter for a provider (one per process, so SDK clients and connections are reused). */
export function getProvider(kind: 'openai' | 'anthropic'): Provider {
  if (kind === 'openai') return (openai ??= new OpenAIProvider());
  return (anthropic ??= new AnthropicProvider());
}
