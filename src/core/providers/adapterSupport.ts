// What both SDK adapters share: a small client cache, the stall watchdog that bounds streams by the
// agent's timeoutMs, and the guarded call that links cancellation and turns every failure into a MaofError.
import { onAbort } from '../abortLinks';
import { sha256 } from '../hash';
import { cancelledError, MaofError } from '../errors';
import type { Clock } from '../ports';
import type { ChatMessage, Usage } from '../types';
import { endpointLabel, mapProviderError, stallTimeoutError, type ProviderErrorContext, type ProviderKind } from './errorMapping';
import type { ProviderRequest } from './providerTypes';

export interface ClientKeyParts {
  provider: ProviderKind;
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  headers?: Record<string, string>;
}

/**
 * SDK clients keyed by a hash of what configures them, so keep-alive connections are reused
 * across requests. The key holds a hash, never the API key itself.
 */
export class ClientCache<C> {
  private readonly clients = new Map<string, C>();
  /** The client returned last, with what configured it: most calls repeat it, and need no hash. */
  private last: { parts: ClientKeyParts; client: C } | undefined;

  constructor(private readonly maxEntries = 16) {}

  get(parts: ClientKeyParts, create: () => C): C {
    const last = this.last;
    if (last && sameParts(last.parts, parts)) return last.client;
    const client = this.lookup(parts, create);
    this.last = { parts: { ...parts }, client };
    return client;
  }

  private lookup(parts: ClientKeyParts, create: () => C): C {
    const headers = parts.headers ? Object.entries(parts.headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
    const key = sha256(JSON.stringify([parts.provider, parts.baseUrl, parts.apiKey, parts.timeoutMs, headers]));
    const hit = this.clients.get(key);
    if (hit !== undefined) {
      this.clients.delete(key);
      this.clients.set(key, hit);
      return hit;
    }
    const client = create();
    this.clients.set(key, client);
    if (this.clients.size > this.maxEntries) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    return client;
  }

  get size(): number {
    return this.clients.size;
  }
}

/** Same configuration; headers count as the same only when they are the same object (an agent's). */
function sameParts(a: ClientKeyParts, b: ClientKeyParts): boolean {
  return a.apiKey === b.apiKey && a.baseUrl === b.baseUrl && a.timeoutMs === b.timeoutMs && a.provider === b.provider && a.headers === b.headers;
}

/**
 * Aborts a call that has been silent for `idleMs`, or that is still running at `deadline` (the
 * request's retry.maxTotalMs: a gateway that retries on its own can keep one call busy far longer
 * than any stall). The SDKs' own timeout stops at the response headers; a stream that stalls after
 * them would otherwise hang forever. Activity only records a timestamp, so a chunk costs no timer
 * work; one timer serves both limits; the Clock port keeps it testable without sleeping.
 */
export class StallWatchdog {
  private last: number;
  private disposed = false;
  /** Cancels the pending timer (clocks with setTimer). */
  private cancel: (() => void) | undefined;
  /** Ends the sleep loop (clocks without setTimer). */
  private stopper: AbortController | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly onStall: (overran: boolean) => void,
    private readonly deadline = Number.POSITIVE_INFINITY,
  ) {
    this.last = clock.now();
    if (clock.setTimer) this.arm(this.nextWait(idleMs));
    else void this.run();
  }

  touch(): void {
    this.last = this.clock.now();
  }

  dispose(): void {
    this.disposed = true;
    this.cancel?.();
    this.cancel = undefined;
    this.stopper?.abort();
  }

  /** The idle wait, cut short when the deadline comes first. */
  private nextWait(idleWait: number): number {
    return Math.max(0, Math.min(idleWait, this.deadline - this.clock.now()));
  }

  /** Fires onStall when a limit is reached; otherwise how long to wait for the next check. */
  private check(): number | undefined {
    const now = this.clock.now();
    if (now >= this.deadline) {
      this.onStall(true);
      return undefined;
    }
    const idle = now - this.last;
    if (idle >= this.idleMs) {
      this.onStall(false);
      return undefined;
    }
    return this.nextWait(this.idleMs - idle);
  }

  private arm(wait: number): void {
    this.cancel = this.clock.setTimer!(wait, () => {
      this.cancel = undefined;
      if (this.disposed) return;
      const next = this.check();
      if (next !== undefined) this.arm(next);
    });
  }

  private async run(): Promise<void> {
    const stopper = (this.stopper = new AbortController());
    let wait: number | undefined = this.nextWait(this.idleMs);
    try {
      while (wait !== undefined) {
        await this.clock.sleep(wait, stopper.signal);
        wait = this.check();
      }
    } catch {
      // disposed: the call finished first
    }
  }
}

export interface GuardedCall {
  /** Abort signal for the SDK: fires on the caller's cancel or on a stall. */
  signal: AbortSignal;
  /** Call on every streamed event so the watchdog knows the stream is alive. */
  touch: () => void;
  ctx: ProviderErrorContext;
}

/**
 * Runs one provider call: `setup` (loading the SDK, building the client) runs first, outside the
 * timeout; then `body` runs with the caller's signal linked and the stall watchdog armed. Anything
 * thrown becomes a MaofError. The SDKs end an aborted stream silently, so an aborted signal after
 * `body` returns is turned into CANCELLED or TIMEOUT here too.
 */
export async function runGuarded<S, T>(
  provider: ProviderKind,
  req: ProviderRequest,
  clock: Clock,
  setup: (ctx: ProviderErrorContext) => Promise<S>,
  body: (call: GuardedCall, prepared: S) => Promise<T>,
): Promise<T> {
  const ctx: ProviderErrorContext = { provider, agentId: req.agent.id, now: clock.now(), signal: req.signal, baseUrl: req.agent.baseUrl, model: req.agent.model };
  const cancelled = (): MaofError => cancelledError().withAgent(req.agent.id, provider);
  if (req.signal.aborted) throw cancelled();
  let prepared: S;
  try {
    prepared = await setup(ctx);
  } catch (err) {
    throw mapProviderError(err, ctx);
  }
  if (req.signal.aborted) throw cancelled();

  const controller = new AbortController();
  const unlink = onAbort(req.signal, () => controller.abort());
  let stalled = false;
  let overran = false;
  const watchdog = new StallWatchdog(
    clock,
    req.agent.timeoutMs,
    (pastDeadline) => {
      stalled = true;
      overran = pastDeadline;
      controller.abort();
    },
    req.deadline,
  );
  const outcome = (err: unknown): MaofError => {
    if (req.signal.aborted) return cancelled();
    if (overran) return deadlineTimeoutError(ctx);
    if (stalled) return stallTimeoutError(ctx);
    ctx.now = clock.now();
    return mapProviderError(err, ctx);
  };
  try {
    const result = await body({ signal: controller.signal, touch: () => watchdog.touch(), ctx }, prepared);
    if (controller.signal.aborted) throw outcome(undefined);
    return result;
  } catch (err) {
    throw outcome(err);
  } finally {
    watchdog.dispose();
    unlink();
  }
}

/**
 * The call was still running when the request's time (retry.maxTotalMs) ran out: often a gateway
 * in front of the provider retrying on its own. Not the agent's fault alone, and no time is left
 * to retry, so the message names the setting and the gateway rather than promising a retry.
 */
export function deadlineTimeoutError(ctx: ProviderErrorContext): MaofError {
  const label = endpointLabel(ctx);
  return new MaofError('TIMEOUT', `${label} had not finished answering agent "${ctx.agentId}" when the request's time ran out — raise maof.retry.maxTotalMs, or turn down the retries of a gateway in front of it.`, {
    agentId: ctx.agentId,
    provider: ctx.provider,
    detail: `${label}: aborted at the request deadline (retry.maxTotalMs)`,
  });
}

/**
 * An SDK loader: the import runs on first use, so that activating the extension does not pay for
 * it, and runs again after a failed attempt instead of remembering the failure.
 */
export function lazySdk<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The same cheap estimate the simulator bills, used only when a provider reports no usage. */
export function estimateUsage(messages: readonly ChatMessage[], text: string): Usage {
  let input = 0;
  for (const m of messages) input += Math.ceil(m.content.length / 4) + 4;
  return { inputTokens: input, outputTokens: Math.ceil(text.length / 4), cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/** A token count from a provider payload: a finite non-negative number, else 0. */
export function tokens(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
