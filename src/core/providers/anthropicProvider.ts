// Adapter for the Anthropic messages API over the official SDK with its retries off, so MAOF's
// retry policy is the only one.
import type { Anthropic as AnthropicClient } from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages/messages';
import { systemClock } from '../clock';
import type { Clock } from '../ports';
import type { ToolCall, Usage } from '../types';
import { transportFetch } from './httpTransport';
import { ClientCache, estimateUsage, lazySdk, runGuarded, tokens } from './adapterSupport';
import { incompleteStreamError, missingKeyError, type ProviderErrorContext } from './errorMapping';
import type { Provider, ProviderRequest, ProviderResponse } from './providerTypes';
import { AnthropicToolCalls, toAnthropicMessages, toAnthropicTools } from './toolWire';
import { withAnthropicBreakpoints } from './promptCache';

export { toAnthropicMessages } from './toolWire';

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
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'refusal') return 'refused';
  return 'other';
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
      let params: MessageCreateParamsBase = { model: agent.model, max_tokens: req.maxOutputTokens, ...toAnthropicMessages(req.messages, { systemBlocks: req.promptCache !== undefined }) };
      if (req.tools && req.tools.length > 0) Object.assign(params, toAnthropicTools(req.tools, req.toolMode));
      if (req.promptCache) params = withAnthropicBreakpoints(params, agent.model);

      if (!req.stream) {
        const res = await client.messages.create({ ...params, stream: false }, { signal });
        let text = '';
        const toolCalls: ToolCall[] = [];
        for (const block of Array.isArray(res.content) ? res.content : []) {
          if (block.type === 'text') text += block.text;
          else if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, input: block.input });
        }
        for (const call of toolCalls) req.onToolCall?.(call);
        return {
          text,
          usage: res.usage ? mapAnthropicUsage(res.usage) : estimateUsage(req.messages, text),
          ...(res.usage ? {} : { usageEstimated: true }),
          finishReason: mapStop(res.stop_reason),
          model: res.model || agent.model,
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        };
      }

      const stream = await client.messages.create({ ...params, stream: true }, { signal });
      touch();
      const parts: string[] = [];
      let usage: Usage | undefined;
      let stop: string | null | undefined;
      let finished = false;
      let model = '';
      const calls = new AnthropicToolCalls();
      for await (const event of stream) {
        touch();
        switch (event.type) {
          case 'content_block_start':
            // A block (text, tool use, thinking) starting is the model's output; message_start and
            // ping are the server's, sent before the model has produced anything.
            req.onProgress?.();
            calls.start(event.index, event.content_block);
            break;
          case 'content_block_stop': {
            const call = calls.stop(event.index);
            if (call) req.onToolCall?.(call);
            break;
          }
          case 'message_start':
            model = event.message.model;
            if (event.message.usage) usage = mapAnthropicUsage(event.message.usage);
            break;
          case 'content_block_delta':
            // Text, a tool call's JSON, thinking and its signature all show the model at work.
            req.onProgress?.();
            if (event.delta.type === 'text_delta' && event.delta.text) {
              parts.push(event.delta.text);
              req.onDelta?.(event.delta.text);
            } else if (event.delta.type === 'input_json_delta') {
              calls.delta(event.index, event.delta.partial_json);
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
      const toolCalls = calls.finish();
      return { text, usage: usage ?? estimateUsage(req.messages, text), ...(usage ? {} : { usageEstimated: true }), finishReason: mapStop(stop), model: model || agent.model, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
    });
  }
}
