// Adapter for the Anthropic messages API over the official SDK with its retries off, so MAOF's
// retry policy is the only one.
import type { Anthropic as AnthropicClient } from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, MessageParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { systemClock } from '../clock';
import type { Clock } from '../ports';
import type { ChatMessage, Usage } from '../types';
import { transportFetch } from './httpTransport';
import { ClientCache, estimateUsage, lazySdk, runGuarded, tokens } from './adapterSupport';
import { incompleteStreamError, missingKeyError, type ProviderErrorContext } from './errorMapping';
import type { Provider, ProviderRequest, ProviderResponse } from './provider';

/** Passed explicitly so that an ANTHROPIC_BASE_URL in the environment never redirects a key. */
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Sent to keyless servers behind a baseUrl (requiresKey: false): the SDK refuses to send no key at all. */
const NO_KEY_PLACEHOLDER = 'no-key';

/** Loaded on first use (see lazySdk). */
const loadSdk = lazySdk(() => import('@anthropic-ai/sdk').then((m) => m.Anthropic));

interface AnthropicUsageLike {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_read_input_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
}

export function mapAnthropicUsage(u: AnthropicUsageLike): Usage {
  return {
    inputTokens: tokens(u.input_tokens),
    outputTokens: tokens(u.output_tokens),
    cacheReadTokens: tokens(u.cache_read_input_tokens),
    cacheWriteTokens: tokens(u.cache_creation_input_tokens),
  };
}

function mapStop(reason: string | null | undefined): ProviderResponse['finishReason'] {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'length';
  if (reason === 'refusal') return 'refused';
  return 'other';
}

/** System messages become the `system` field; consecutive turns of one role are merged. */
export function toAnthropicMessages(messages: readonly ChatMessage[]): { system?: string; messages: MessageParam[] } {
  const system: string[] = [];
  const out: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  for (const m of messages) {
    if (m.role === 'system') {
      system.push(m.content);
      continue;
    }
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content += `\n\n${m.content}`;
    else out.push({ role: m.role, content: m.content });
  }
  return system.length > 0 ? { system: system.join('\n\n'), messages: out } : { messages: out };
}

export class AnthropicProvider implements Provider {
  readonly kind = 'anthropic' as const;
  private readonly clients = new ClientCache<AnthropicClient>();

  constructor(private readonly clock: Clock = systemClock) {}

  private async client(req: ProviderRequest, ctx: ProviderErrorContext): Promise<AnthropicClient> {
    const { agent } = req;
    // The orchestrator passes an empty key only to agents that need none (requiresKey: false).
    if (!req.apiKey && !agent.baseUrl) throw missingKeyError(ctx);
    const Anthropic = await loadSdk();
    const baseUrl = agent.baseUrl ?? DEFAULT_BASE_URL;
    const apiKey = req.apiKey || NO_KEY_PLACEHOLDER;
    return this.clients.get({ provider: 'anthropic', baseUrl, apiKey, timeoutMs: agent.timeoutMs, headers: agent.headers }, () =>
      new Anthropic({
        apiKey,
        baseURL: baseUrl,
        timeout: agent.timeoutMs,
        maxRetries: 0,
        defaultHeaders: agent.headers,
        logLevel: 'off',
        openTelemetry: false,
        fetch: transportFetch,
      }),
    );
  }

  complete(req: ProviderRequest): Promise<ProviderResponse> {
    const { agent } = req;
    return runGuarded('anthropic', req, this.clock, (ctx) => this.client(req, ctx), async ({ signal, touch, ctx }, client) => {
      // No temperature: this SDK's messages API has deprecated and dropped it.
      const params: MessageCreateParamsBase = { model: agent.model, max_tokens: req.maxOutputTokens, ...toAnthropicMessages(req.messages) };

      if (!req.stream) {
        const res = await client.messages.create({ ...params, stream: false }, { signal });
        let text = '';
        for (const block of Array.isArray(res.content) ? res.content : []) if (block.type === 'text') text += block.text;
        return {
          text,
          usage: res.usage ? mapAnthropicUsage(res.usage) : estimateUsage(req.messages, text),
          ...(res.usage ? {} : { usageEstimated: true }),
          finishReason: mapStop(res.stop_reason),
          model: res.model || agent.model,
        };
      }

      const stream = await client.messages.create({ ...params, stream: true }, { signal });
      touch();
      const parts: string[] = [];
      let usage: Usage | undefined;
      let stop: string | null | undefined;
      let finished = false;
      let model = '';
      for await (const event of stream) {
        touch();
        switch (event.type) {
          case 'message_start':
            model = event.message.model;
            if (event.message.usage) usage = mapAnthropicUsage(event.message.usage);
            break;
          case 'content_block_delta':
            if (event.delta.type === 'text_delta' && event.delta.text) {
              parts.push(event.delta.text);
              req.onDelta?.(event.delta.text);
            }
            break;
          case 'message_delta': {
            stop = event.delta.stop_reason ?? stop;
            // message_delta carries the final output count and, on newer APIs, cumulative input counts.
            const u = event.usage;
            if (!u) break;
            const base = usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
            usage = {
              inputTokens: u.input_tokens != null ? tokens(u.input_tokens) : base.inputTokens,
              outputTokens: tokens(u.output_tokens),
              cacheReadTokens: u.cache_read_input_tokens != null ? tokens(u.cache_read_input_tokens) : base.cacheReadTokens,
              cacheWriteTokens: u.cache_creation_input_tokens != null ? tokens(u.cache_creation_input_tokens) : base.cacheWriteTokens,
            };
            break;
          }
          case 'message_stop':
            finished = true;
            break;
          default:
            break;
        }
      }
      const text = parts.join('');
      if (signal.aborted) return { text, usage: estimateUsage(req.messages, text), finishReason: 'other', model: model || agent.model };
      if (!finished && stop === undefined) throw incompleteStreamError(ctx);
      return { text, usage: usage ?? estimateUsage(req.messages, text), ...(usage ? {} : { usageEstimated: true }), finishReason: mapStop(stop), model: model || agent.model };
    });
  }
}
