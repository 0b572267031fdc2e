// Exact-match cache of answers, keyed by everything that shapes an answer (agent, model, params,
// messages, context hashes), so a repeated deterministic request costs nothing and returns at once.
// Concurrent identical requests share one upstream call.
import { LRUCache } from 'lru-cache';
import { sha256, sha256Bytes } from '../hash';
import type { CachePolicy } from '../config/schema';
import { toMaofError } from '../errors';
import type { Clock } from '../ports';
import type { ChatMessage, MessagePart, ToolCall, ToolDefinition, ToolMode, Usage } from '../types';

export interface CachedResponse {
  text: string;
  usage: Usage;
  agentId: string;
  model: string;
  costUsd: number;
  finishReason: string;
  /** Tool calls of the answer (such answers are never cached; the field travels with the result). */
  toolCalls?: ToolCall[];
}

export interface CacheKeyParts {
  agentId: string;
  provider: string;
  model: string;
  baseUrl?: string;
  temperature?: number;
  maxOutputTokens: number;
  json?: boolean;
  messages: ChatMessage[];
  contextHashes?: string[];
  /** Tools offered and how: a different tool set can change the answer. */
  tools?: readonly ToolDefinition[];
  toolMode?: ToolMode;
}

/**
 * `hit`: served from the cache. `shared`: joined an identical request already in flight (no call of
 * its own). Neither: this caller made the upstream call and paid for it.
 */
export interface CacheLookup {
  value: CachedResponse;
  hit: boolean;
  shared: boolean;
}

export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
  /** Requests that joined an identical request in flight instead of calling upstream. */
  shared: number;
  /** What hits and shared requests would have cost. */
  savedUsd: number;
}

/** Bumped when the key's shape changes, so old keys can never match new requests. */
const KEY_VERSION = 1;
/** Keys up to this length are kept as text (at most ~4 MB for the largest allowed cache). */
const MAX_PLAIN_KEY_CHARS = 2048;

/**
 * The temperature a provider samples at when none is sent. OpenAI and Anthropic both default to 1,
 * and OpenAI-compatible servers (Ollama, vLLM, LM Studio) to something above 0 too.
 */
export function providerDefaultTemperature(_provider: string): number {
  return 1;
}

interface Stored {
  value: CachedResponse;
  /** Cache-clock time it was stored, so a resize keeps each entry's age. */
  storedAt: number;
}

interface Flight {
  promise: Promise<CachedResponse>;
}

export class ResponseCache {
  private policy: CachePolicy;
  private readonly clock: Clock;
  /** lru-cache treats a start time of 0 as "no TTL": count from 1 at construction. */
  private readonly origin: number;
  private lru: LRUCache<string, Stored>;
  private readonly inflight = new Map<string, Flight>();
  /** Bumped by clear()/disable so answers computed before them are not stored after. */
  private generation = 0;
  private hits = 0;
  private misses = 0;
  private sharedCount = 0;
  private savedUsd = 0;

  constructor(policy: CachePolicy, clock: Clock) {
    this.policy = policy;
    this.clock = clock;
    this.origin = clock.now();
    this.lru = this.makeLru(policy);
  }

  /** Applies changed settings live: disabling empties the cache, a new size or TTL keeps what fits. */
  setPolicy(policy: CachePolicy): void {
    const old = this.policy;
    this.policy = policy;
    if (!policy.enabled) {
      this.lru.clear();
      this.generation++;
      return;
    }
    if (old.maxEntries === policy.maxEntries && old.ttlMs === policy.ttlMs) return;
    const next = this.makeLru(policy);
    // Least recently used first, so the new cache keeps the same order and evicts the same ones.
    for (const key of this.lru.rkeys()) {
      const stored = this.lru.peek(key);
      if (stored) next.set(key, stored, { start: stored.storedAt });
    }
    this.lru = next;
  }

  /** The cache key, or undefined when this request must not be cached (cache off, or sampling is random). */
  keyFor(parts: CacheKeyParts): string | undefined {
    if (!this.policy.enabled) return undefined;
    const temperature = parts.temperature ?? providerDefaultTemperature(parts.provider);
    if (temperature > 0 && !this.policy.cacheNonDeterministic) return undefined;
    // Canonical without sorting keys: the parameters as one fixed-order JSON array, then each message
    // framed by its role and length, hashed in one call. Message text goes in as is — stringifying
    // (escaping) a long prompt costs several times more than hashing it.
    let text = JSON.stringify([
      KEY_VERSION,
      parts.agentId,
      parts.provider,
      parts.model,
      parts.baseUrl ?? null,
      parts.temperature ?? null,
      parts.maxOutputTokens,
      parts.json === true,
      parts.contextHashes ?? [],
      parts.messages.length,
    ]);
    if (parts.tools && parts.tools.length > 0) text += `\ntools:${parts.toolMode ?? 'auto'}:${JSON.stringify(parts.tools)}`;
    for (const m of parts.messages) {
      text += `\n${m.role}:${m.content.length}\n${m.content}`;
      // Tool calls, tool results and images are the turn as much as its text: each part is framed
      // by its kind and length; an image goes in as its hash, not its bytes.
      if (m.parts) for (const p of m.parts) text += partKey(p);
    }
    // A short key is its own text: an exact match, and no hash to compute (a SHA-256 call cost
    // ~15 µs a request inside a busy batch). Longer ones are hashed so the cache stays small; a
    // hash (64 hex digits) can never equal a text key, which starts with "[".
    return text.length <= MAX_PLAIN_KEY_CHARS ? text : sha256(text);
  }

  get(key: string): CachedResponse | undefined {
    const value = this.lookup(key);
    if (value) this.countHit(value);
    return value;
  }

  /**
   * The cached answer, or the answer of `compute`, stored on success. Concurrent calls with the same
   * key share one compute; its failure reaches every waiter and is never stored — except a
   * cancellation, after which each waiter runs its own compute (one user's Stop is not another's).
   */
  async getOrCompute(key: string, compute: () => Promise<CachedResponse>): Promise<CacheLookup> {
    for (;;) {
      const cached = this.lookup(key);
      if (cached) {
        this.countHit(cached);
        return { value: cached, hit: true, shared: false };
      }
      const flight = this.inflight.get(key);
      if (!flight) return { value: await this.lead(key, compute), hit: false, shared: false };
      try {
        const value = await flight.promise;
        this.sharedCount++;
        this.savedUsd += value.costUsd;
        return { value, hit: false, shared: true };
      } catch (err) {
        if (toMaofError(err).code !== 'CANCELLED') throw err;
      }
    }
  }

  clear(): void {
    this.lru.clear();
    this.generation++;
  }

  stats(): CacheStats {
    this.lru.purgeStale();
    return { entries: this.lru.size, hits: this.hits, misses: this.misses, shared: this.sharedCount, savedUsd: this.savedUsd };
  }

  private lookup(key: string): CachedResponse | undefined {
    if (!this.policy.enabled) return undefined;
    return this.lru.get(key)?.value;
  }

  private countHit(value: CachedResponse): void {
    this.hits++;
    this.savedUsd += value.costUsd;
  }

  private async lead(key: string, compute: () => Promise<CachedResponse>): Promise<CachedResponse> {
    this.misses++;
    const generation = this.generation;
    const flight: Flight = { promise: Promise.resolve().then(compute) };
    this.inflight.set(key, flight);
    try {
      const value = await flight.promise;
      if (this.policy.enabled && generation === this.generation) this.lru.set(key, { value, storedAt: this.cacheNow() });
      return value;
    } finally {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    }
  }

  private cacheNow(): number {
    return this.clock.now() - this.origin + 1;
  }

  private makeLru(policy: CachePolicy): LRUCache<string, Stored> {
    return new LRUCache<string, Stored>({
      max: policy.maxEntries,
      ttl: policy.ttlMs,
      // lru-cache would otherwise memoise "now" for 1 ms of real time, blind to the injected clock.
      ttlResolution: 0,
      perf: { now: () => this.cacheNow() },
    });
  }
}

/** One part of a turn as key text; its text part is the turn's `content`, already keyed. */
function partKey(p: MessagePart): string {
  switch (p.type) {
    case 'text':
      return '';
    case 'tool_call': {
      const input = JSON.stringify(p.input) ?? 'null';
      return `\n#call:${p.id}:${p.name}:${input.length}\n${input}`;
    }
    case 'tool_result':
      return `\n#result:${p.callId}:${p.isError === true}:${p.content.length}\n${p.content}`;
    case 'data':
      return `\n#data:${p.mimeType}:${p.data.byteLength}:${sha256Bytes(p.data)}`;
  }
}
