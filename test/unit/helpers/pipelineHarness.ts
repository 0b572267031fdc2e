// Builds the pipeline's shared services around a scripted fake provider and the fake clock, so
// each stage of src/core/pipeline can be run alone, in milliseconds, with no network.
import { LatencyStats } from '../../../src/core/resilience/latencyStats';
import { CreditMarks } from '../../../src/core/resilience/creditMarks';
import { parseConfig, type AgentConfig, type MaofConfig } from '../../../src/core/config/schema';
import { CostLedger } from '../../../src/core/cost/costLedger';
import { ResponseCache } from '../../../src/core/cache/responseCache';
import { MaofError } from '../../../src/core/errors';
import { EventBus, type MaofEvent } from '../../../src/core/events';
import { SessionStore } from '../../../src/core/memory/sessionMemory';
import { MemoryStateStore, silentLogger } from '../../../src/core/ports';
import type { Provider, ProviderRequest, ProviderResponse } from '../../../src/core/providers/provider';
import { BreakerRegistry } from '../../../src/core/resilience/circuitBreaker';
import { RateLimiter } from '../../../src/core/resilience/rateLimiter';
import { RequestContext } from '../../../src/core/pipeline/requestContext';
import { PipelineServices } from '../../../src/core/pipeline/services';
import type { RunRequest } from '../../../src/core/orchestrator';
import { userTurn } from '../../../src/core/types';
import { FakeClock } from './fakeClock';
import { MapSecrets, OPENAI_KEY, ANTHROPIC_KEY } from './orchestratorHarness';

/**
 * One scripted reply: an answer (text, usage; after `silentMs` of silence on the fake clock, with
 * `thinking` signs of life every `thinkingEveryMs` meanwhile), an error the provider throws, or a
 * hang (after streaming `chunks`, when given) that ends only when the request is aborted.
 */
export type Script =
  | { text: string; inputTokens?: number; outputTokens?: number; finishReason?: ProviderResponse['finishReason']; silentMs?: number; thinkingEveryMs?: number }
  | { error: MaofError }
  | { hang: true; chunks?: string[] };

/** Answers from a script (then "ok"), and keeps every request it received. */
export class ScriptedProvider implements Provider {
  readonly kind = 'openai' as const;
  readonly requests: ProviderRequest[] = [];
  private readonly script: Script[] = [];

  constructor(private readonly clock?: FakeClock) {}

  then(...steps: Script[]): this {
    this.script.push(...steps);
    return this;
  }

  complete(req: ProviderRequest): Promise<ProviderResponse> {
    this.requests.push(req);
    const step = this.script.shift() ?? { text: 'ok' };
    if ('error' in step) return Promise.reject(step.error);
    if ('hang' in step) {
      for (const chunk of step.chunks ?? []) {
        req.onProgress?.();
        req.onDelta?.(chunk);
      }
      return new Promise((_resolve, reject) => req.signal.addEventListener('abort', () => reject(new MaofError('CANCELLED', 'cancelled')), { once: true }));
    }
    if (step.silentMs) return this.afterSilence(req, step);
    return Promise.resolve(this.answer(req, step));
  }

  private async afterSilence(req: ProviderRequest, step: Extract<Script, { text: string }>): Promise<ProviderResponse> {
    if (!this.clock) throw new Error('a silent step needs the fake clock');
    const end = this.clock.now() + (step.silentMs ?? 0);
    try {
      while (this.clock.now() < end) {
        await this.clock.sleep(Math.min(end - this.clock.now(), step.thinkingEveryMs ?? Number.POSITIVE_INFINITY), req.signal);
        if (step.thinkingEveryMs) req.onProgress?.();
      }
    } catch {
      throw new MaofError('CANCELLED', 'cancelled');
    }
    return this.answer(req, step);
  }

  private answer(req: ProviderRequest, step: Extract<Script, { text: string }>): ProviderResponse {
    req.onProgress?.();
    req.onDelta?.(step.text);
    return {
      text: step.text,
      usage: { inputTokens: step.inputTokens ?? 100, outputTokens: step.outputTokens ?? 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
      finishReason: step.finishReason ?? 'stop',
      model: req.agent.model,
    };
  }
}

export const AGENTS = [
  { id: 'a', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 100_000, maxOutputTokens: 512 },
  { id: 'b', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 200_000, maxOutputTokens: 512 },
];

export function stageConfig(overrides: Record<string, unknown> = {}): MaofConfig {
  const { config, issues } = parseConfig({
    agents: AGENTS,
    routes: { code: ['a', 'b'], writing: ['a', 'b'], analysis: ['b', 'a'] },
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalMs: 60_000, maxRetryAfterMs: 5_000 },
    breaker: { failureThreshold: 2, resetTimeoutMs: 30_000 },
    cache: { enabled: false },
    ...overrides,
  });
  if (issues.length > 0) throw new Error(`stage config invalid: ${JSON.stringify(issues)}`);
  return config;
}

export interface Stages {
  services: PipelineServices;
  clock: FakeClock;
  provider: ScriptedProvider;
  events: MaofEvent[];
  secrets: MapSecrets;
  /** A request context as Orchestrator.run makes one. */
  context: (req: Partial<RunRequest> & { prompt?: string }) => RequestContext;
}

export function stages(config: MaofConfig = stageConfig(), opts: { secrets?: Record<string, string | undefined> } = {}): Stages {
  const clock = new FakeClock();
  const provider = new ScriptedProvider(clock);
  const store = new MemoryStateStore();
  const events: MaofEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const secrets = new MapSecrets(opts.secrets ?? { 'provider:openai': OPENAI_KEY, 'provider:anthropic': ANTHROPIC_KEY });
  // A breaker change wakes requests waiting for one, as in the Orchestrator.
  const breakers: BreakerRegistry = new BreakerRegistry(config.breaker, clock, () => services.wakeBreakerWaiters());
  const services: PipelineServices = new PipelineServices({
    config,
    secrets,
    clock,
    logger: silentLogger,
    events: bus,
    breakers,
    latency: new LatencyStats(),
    credit: new CreditMarks(),
    ledger: new CostLedger({ store, clock, policy: config.budget }),
    cache: new ResponseCache(config.cache, clock),
    sessions: new SessionStore({ maxTurns: 20 }),
    limiter: new RateLimiter(clock),
    providerFor: () => provider,
    random: () => 0.5,
    onBreakerSuccess: () => undefined,
  });
  return {
    services,
    clock,
    provider,
    events,
    secrets,
    context: ({ prompt, ...req }) => new RequestContext(services, { ...req, messages: req.messages ?? [userTurn(prompt ?? 'implement a stack')] }),
  };
}

/** Awaits a promise while the fake clock runs every sleep it is waiting on (backoff, pauses, breaker cool-downs). */
export async function withTime<T>(clock: FakeClock, work: Promise<T>): Promise<T> {
  let done = false;
  const guarded = work.finally(() => {
    done = true;
  });
  for (let i = 0; i < 1_000 && !done; i++) {
    await clock.flush();
    if (done) break;
    if (clock.nextDue() === undefined) await new Promise((r) => setImmediate(r));
    else await clock.advanceTo(clock.nextDue()!);
  }
  return guarded;
}

/** The error a stage threw (fails when it threw none). */
export async function thrown(work: Promise<unknown> | (() => unknown)): Promise<MaofError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    if (err instanceof MaofError) return err;
    throw err;
  }
  throw new Error('expected the stage to throw');
}

/** An agent of the config by id (the config also holds the built-in agents). */
export function agentOf(s: Stages, id: string): AgentConfig {
  const agent = s.services.config.agents.find((a) => a.id === id);
  if (!agent) throw new Error(`no agent ${id}`);
  return agent;
}

/** The agents of a route, in order. */
export function routeOf(s: Stages, task: string): AgentConfig[] {
  return (s.services.config.routes[task] ?? []).map((id) => agentOf(s, id));
}
