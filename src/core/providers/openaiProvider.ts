// Adapter for OpenAI chat completions — and every OpenAI-compatible endpoint reached through an
// agent's baseUrl — over the official SDK with its retries off, so MAOF's retry policy is the only one.
import type { OpenAI as OpenAIClient } from 'openai';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import { systemClock } from '../clock';
import type { Clock } from '../ports';
import type { Usage } from '../types';
import { transportFetch } from './httpTransport';
import { ClientCache, estimateUsage, lazySdk, runGuarded, tokens } from './adapterSupport';
import { incompleteStreamError, missingKeyError, type ProviderErrorContext } from './errorMapping';
import type { Provider, ProviderRequest, ProviderResponse } from './providerTypes';
import { OpenAIToolCalls, toOpenAIMessages, toOpenAITools } from './toolWire';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Sent to keyless local servers (Ollama, LM Studio): the SDK refuses to send no key at all. */
const NO_KEY_PLACEHOLDER = 'no-key';

/** Loaded on first use (see lazySdk). */
const loadSdk = lazySdk(() => import('openai').then((m) => m.OpenAI));

interface OpenAIUsageLike {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
}

export function mapOpenAIUsage(u: OpenAIUsageLike): Usage {
  const prompt = tokens(u.prompt_tokens);
  const cached = Math.min(prompt, tokens(u.prompt_tokens_details?.cached_tokens));
  return { inputTokens: prompt - cached, outputTokens: tokens(u.completion_tokens), cacheReadTokens: cached, cacheWriteTokens: 0 };
}

function mapFinish(reason: string | null | undefined): ProviderResponse['finishReason'] {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  if (reason === 'content_filter') return 'filtered';
  return 'other';
}

export class OpenAIProvider implements Provider {
  readonly kind = 'openai' as const;
  private readonly clients = new ClientCache<OpenAIClient>();

  constructor(private readonly clock: Clock = systemClock) {}

  private async client(req: ProviderRequest, ctx: ProviderErrorContext): Promise<OpenAIClient> {
    const { agent } = req;
    if (!req.apiKey && !agent.baseUrl) throw missingKeyError(ctx);
    const OpenAI = await loadSdk();
    const baseUrl = agent.baseUrl ?? DEFAULT_BASE_URL;
    const apiKey = req.apiKey || NO_KEY_PLACEHOLDER;
    return this.clients.get({ provider: 'openai', baseUrl, apiKey, timeoutMs: agent.timeoutMs, headers: agent.headers }, () =>
      new OpenAI({ apiKey, baseURL: baseUrl, timeout: agent.timeoutMs, maxRetries: 0, defaultHeaders: agent.headers, logLevel: 'off', fetch: transportFetch }),
    );
  }

  complete(req: ProviderRequest): Promise<ProviderResponse> {
    const { agent } = req;
    return runGuarded('openai', req, this.clock, (ctx) => this.client(req, ctx), async ({ signal, touch, ctx }, client) => {
      const params: ChatCompletionCreateParamsBase = {
        model: agent.model,
        messages: toOpenAIMessages(req.messages),
      };
      if (req.tools && req.tools.length > 0) Object.assign(params, toOpenAITools(req.tools, req.toolMode));
      // OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens); the
      // compatible servers behind a baseUrl widely understand only max_tokens.
      if (agent.baseUrl) params.max_tokens = req.maxOutputTokens;
      else params.max_completion_tokens = req.maxOutputTokens;
      const temperature = req.temperature ?? agent.temperature;
      if (temperature !== undefined) params.temperature = temperature;
      if (req.json) params.response_format = { type: 'json_object' };
      // OpenAI caches on its own; the key keeps a conversation's requests on one cache. Compatible
      // servers get it only when the agent opts in: some reject fields they do not know.
      if (req.promptCache && (!agent.baseUrl || agent.promptCacheKey === true)) params.prompt_cache_key = req.promptCache.key;

      if (!req.stream) {
        const res = await client.chat.completions.create({ ...params, stream: false }, { signal });
        // Compatible servers send `choices: []` or omit it; that is an answer without text.
        const choice = Array.isArray(res.choices) ? res.choices[0] : undefined;
        const message = choice?.message;
        const text = message?.content ?? '';
        const calls = new OpenAIToolCalls();
        calls.add(message?.tool_calls?.flatMap((c, index) => (c.type === 'function' ? [{ index, id: c.id, function: c.function }] : [])));
        const toolCalls = calls.finish();
        for (const call of toolCalls) req.onToolCall?.(call);
        return {
          text,
          usage: res.usage ? mapOpenAIUsage(res.usage) : estimateUsage(req.messages, text),
          ...(res.usage ? {} : { usageEstimated: true }),
          finishReason: message?.refusal && !text ? 'refused' : mapFinish(choice?.finish_reason),
          model: res.model || agent.model,
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        };
      }

      const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal });
      touch();
      const parts: string[] = [];
      let usage: Usage | undefined;
      let finish: string | null | undefined;
      let refused = false;
      let model = '';
      const calls = new OpenAIToolCalls();
      for await (const chunk of stream) {
        touch();
        if (!model && chunk.model) model = chunk.model;
        if (chunk.usage) usage = mapOpenAIUsage(chunk.usage);
        const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
        if (!choice) continue;
        if (choice.delta?.refusal) refused = true;
        if (req.onProgress && producedOutput(choice.delta)) req.onProgress();
        const delta = choice.delta?.content;
        if (delta) {
          parts.push(delta);
          req.onDelta?.(delta);
        }
        calls.add(choice.delta?.tool_calls);
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      const text = parts.join('');
      // OpenAI streams a call's arguments in pieces: a call is whole only when the stream ends.
      const toolCalls = signal.aborted ? [] : calls.finish();
      for (const call of toolCalls) req.onToolCall?.(call);
      if (signal.aborted) return { text, usage: estimateUsage(req.messages, text), finishReason: 'other', model: model || agent.model };
      if (!finish) throw incompleteStreamError(ctx);
      return {
        text,
        usage: usage ?? estimateUsage(req.messages, text),
        ...(usage ? {} : { usageEstimated: true }),
        finishReason: refused && !text ? 'refused' : mapFinish(finish),
        model: model || agent.model,
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      };
    });
  }
}

/**
 * A chunk that carries the model's output: text, a refusal, a tool call's pieces, or reasoning
 * (`reasoning_content` of DeepSeek-style servers, `reasoning` of OpenRouter-style ones). The first
 * chunk's bare `role` and the final usage-only chunk are transport, not a sign the model works.
 */
function producedOutput(delta: unknown): boolean {
  if (typeof delta !== 'object' || delta === null) return false;
  const d = delta as Record<string, unknown>;
  return Boolean(d.content || d.refusal || d.reasoning_content || d.reasoning || (Array.isArray(d.tool_calls) && d.tool_calls.length > 0));
}
