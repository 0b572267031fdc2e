// Client-side rate limits per API key (requests and tokens per minute): a request over the limit
// waits its turn in a FIFO queue instead of failing, so the provider rarely has to send a 429.
// When a provider does answer 429, every request on that key shares one pause and is then let
// out at a pace learned from the provider (see `rateLimited`), so the end of a pause is no herd.
import { cancelledError } from '../errors';
import type { Clock } from '../ports';

export interface RateLimits {
  rpm?: number;
  tpm?: number;
}

export interface Permit {
  waitedMs: number;
  /** Which limit made the request wait (absent when it did not wait). */
  reason?: 'rpm' | 'tpm';
  /** call with the real token count when known so the tpm budget is corrected */
  settle(actualTokens: number): void;
}

export type QueuedListener = (waitMs: number, reason: 'rpm' | 'tpm') => void;

const MINUTE_MS = 60_000;
/** How long a pace learned from 429s is kept after the last one: the provider's rate-limit window. */
export const LEARNED_WINDOW_MS = 60_000;
/** Each answer on a paced key raises the pace by this factor; each 429 cuts it by PACE_DOWN. */
const PACE_UP = 1.02;
const PACE_DOWN = 0.8;
const MIN_PACE_RPS = 0.5;
const MAX_PACE_RPS = 1e6;

/**
 * What one key has learned from the provider's 429s: a shared pause and a pace (requests per
 * second) for the rest of the window. Slots are handed out in order, so release is FIFO and paced.
 */
interface Learned {
  pausedUntil: number;
  rps: number;
  /** The earliest time the next request may go. */
  nextAt: number;
  expires: number;
  /** Requests sleeping out the pause: "retry now" wakes them. */
  sleepers: Set<AbortController>;
}

/** Answers per key in the current and the previous second: the first 429's starting pace. */
interface Admitted {
  second: number;
  count: number;
  previous: number;
  /** When the key was first served: a history shorter than a second is a rate over that span. */
  first: number;
}
/** Float slack so that a bucket refilled to 0.9999999 of a token still counts as one. */
const EPSILON = 1e-6;

const noop = (): void => undefined;
const FREE_PERMIT: Permit = Object.freeze({ waitedMs: 0, settle: noop });
const FREE: Promise<Permit> = Promise.resolve(FREE_PERMIT);

interface Waiter {
  /** Resolves when this waiter becomes the head of its queue. */
  turn: Promise<void>;
  wakeTurn: () => void;
}

/** A token bucket per limit, refilled continuously: capacity = the per-minute limit. */
interface Bucket {
  rpmCap: number;
  tpmCap: number;
  rpmTokens: number;
  tpmTokens: number;
  lastRefill: number;
  queue: Waiter[];
  /** Sum of the token estimates waiting in the queue, for the wait announced to onQueued. */
  queuedTokens: number;
  /** Aborting it wakes the sleeping head early (tokens returned, limits changed). */
  wake: AbortController | undefined;
}

function validLimit(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

export class RateLimiter {
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  private readonly learned = new Map<string, Learned>();
  private readonly admitted = new Map<string, Admitted>();

  /**
   * `onPause` hears every pause a 429 set here (with when it ends), so that other MAOF processes
   * can share it (Orchestrator, through the shared store); `adoptPause` is how they arrive.
   */
  constructor(
    clock: Clock,
    private readonly onPause?: (keyId: string, until: number) => void,
  ) {
    this.clock = clock;
  }

  /**
   * Waits until `keyId` may send one more request of about `estimatedTokens` tokens. `keyId` is an
   * opaque id of the API key (a hash, never the key). Agents sharing a key share its buckets; the
   * limits passed last win. Rejects with CANCELLED if `signal` aborts while queued.
   */
  acquire(keyId: string, limits: RateLimits, estimatedTokens: number, signal?: AbortSignal, onQueued?: QueuedListener): Promise<Permit> {
    if (this.learned.size > 0) {
      const learned = this.learned.get(keyId);
      if (learned && this.active(keyId, learned)) return this.paced(learned, signal).then(() => this.acquireLimits(keyId, limits, estimatedTokens, signal, onQueued));
    }
    return this.acquireLimits(keyId, limits, estimatedTokens, signal, onQueued);
  }

  /**
   * The provider answered 429 on `keyId` asking for `retryAfterMs`: every request on the key waits
   * out one shared pause, then goes at a pace that starts at what the key was served in the last
   * second and is cut by each further 429. Returns when the pause ends (clock time). `now` lets the
   * caller measure the wait from the very instant the pause was set.
   */
  rateLimited(keyId: string, retryAfterMs: number, now = this.clock.now()): number {
    const wait = Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : 0;
    let learned = this.learned.get(keyId);
    if (!learned || now >= learned.expires) {
      // Nothing served on the key lately says nothing about its rate: pause only, no pace yet.
      const served = this.servedPerSecond(keyId, now);
      learned = { pausedUntil: now, rps: served > 0 ? served : MAX_PACE_RPS, nextAt: now, expires: 0, sleepers: new Set() };
      this.learned.set(keyId, learned);
    } else if (now >= learned.pausedUntil) {
      // One cut per pause: the requests already in flight when the provider pushed back answer
      // 429 together, and that is one signal, not sixteen.
      // Not below what the key was served in the last second: while the provider is saturated that is its rate.
      learned.rps = Math.max(MIN_PACE_RPS, this.servedPerSecond(keyId, now), learned.rps * PACE_DOWN);
    }
    learned.pausedUntil = Math.max(learned.pausedUntil, now + wait);
    learned.nextAt = Math.max(learned.nextAt, learned.pausedUntil);
    learned.expires = now + LEARNED_WINDOW_MS;
    this.onPause?.(keyId, learned.pausedUntil);
    return learned.pausedUntil;
  }

  /** Another process's 429 paused `keyId` until `until`: requests here wait it out too (no pace is learned from it). */
  adoptPause(keyId: string, until: number): void {
    const now = this.clock.now();
    if (until <= now || (this.pausedUntil(keyId) ?? 0) >= until) return;
    let learned = this.learned.get(keyId);
    if (!learned || now >= learned.expires) {
      learned = { pausedUntil: now, rps: MAX_PACE_RPS, nextAt: now, expires: 0, sleepers: new Set() };
      this.learned.set(keyId, learned);
    }
    learned.pausedUntil = until;
    learned.nextAt = Math.max(learned.nextAt, until);
    learned.expires = until + LEARNED_WINDOW_MS;
  }

  /** The provider answered a request on `keyId`: counted for the first pace, and a learned pace creeps up. */
  served(keyId: string): void {
    const now = this.clock.now();
    const second = Math.floor(now / 1000);
    let a = this.admitted.get(keyId);
    if (!a) {
      a = { second, count: 0, previous: 0, first: now };
      this.admitted.set(keyId, a);
    }
    if (a.second !== second) {
      a.previous = a.second === second - 1 ? a.count : 0;
      a.second = second;
      a.count = 0;
    }
    a.count++;
    if (this.learned.size > 0) {
      const learned = this.learned.get(keyId);
      if (learned) learned.rps = Math.min(MAX_PACE_RPS, learned.rps * PACE_UP);
    }
  }

  /** The user asked to retry now: the key's pause ends and its waiting requests go (still paced). */
  endPause(keyId: string): void {
    const learned = this.learned.get(keyId);
    if (!learned) return;
    const now = this.clock.now();
    learned.pausedUntil = now;
    learned.nextAt = now;
    for (const wake of learned.sleepers) wake.abort();
  }

  /** When a key's shared pause ends, or undefined when it is not paused. */
  pausedUntil(keyId: string): number | undefined {
    if (this.learned.size === 0) return undefined;
    const learned = this.learned.get(keyId);
    return learned && learned.pausedUntil > this.clock.now() ? learned.pausedUntil : undefined;
  }

  private servedPerSecond(keyId: string, now: number): number {
    const a = this.admitted.get(keyId);
    if (!a) return 0;
    // A batch's first 429 often comes within its first second: its burst, over the time it took,
    // says more about the provider's rate than "10 in the last second" (50 ms floor against noise).
    const age = now - a.first;
    if (age < 1000) return ((a.count + a.previous) * 1000) / Math.max(50, age);
    const second = Math.floor(now / 1000);
    if (a.second === second) return Math.max(a.previous, a.count);
    return a.second === second - 1 ? a.count : 0;
  }

  private active(keyId: string, learned: Learned): boolean {
    if (this.clock.now() < learned.expires) return true;
    this.learned.delete(keyId);
    return false;
  }

  /** Waits for the key's pause to end and for this request's slot in the learned pace. */
  private async paced(learned: Learned, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw cancelledError();
      const now = this.clock.now();
      const slot = Math.max(now, learned.pausedUntil, learned.nextAt);
      learned.nextAt = slot + 1000 / learned.rps;
      if (slot <= now) return;
      const wake = new AbortController();
      learned.sleepers.add(wake);
      const onAbort = (): void => wake.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await this.clock.sleep(slot - now, wake.signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        // Woken by endPause: take a new slot from now.
        continue;
      } finally {
        learned.sleepers.delete(wake);
        signal?.removeEventListener('abort', onAbort);
      }
      // A 429 that came while this request slept moved the pause past its slot: queue again.
      if (this.clock.now() >= learned.pausedUntil) return;
    }
  }

  private acquireLimits(keyId: string, limits: RateLimits, estimatedTokens: number, signal?: AbortSignal, onQueued?: QueuedListener): Promise<Permit> {
    // Hot path (no limits configured): no bucket, no allocation.
    if (limits.rpm === undefined && limits.tpm === undefined) return signal?.aborted ? Promise.reject(cancelledError()) : FREE;
    if (signal?.aborted) return Promise.reject(cancelledError());
    const rpm = validLimit(limits.rpm);
    const tpm = validLimit(limits.tpm);
    if (rpm === 0 && tpm === 0) return FREE;

    const tokens = Number.isFinite(estimatedTokens) && estimatedTokens > 0 ? estimatedTokens : 0;
    const bucket = this.bucketFor(keyId, rpm, tpm);
    this.refill(bucket);
    if (bucket.queue.length === 0 && this.canTake(bucket, tokens)) {
      this.take(bucket, tokens);
      return Promise.resolve(this.permit(bucket, tokens, 0, undefined));
    }
    return this.enqueue(bucket, tokens, signal, onQueued);
  }

  /** Requests waiting in the queue of one key, or of all keys. */
  pending(keyId?: string): number {
    if (keyId !== undefined) return this.buckets.get(keyId)?.queue.length ?? 0;
    let total = 0;
    for (const b of this.buckets.values()) total += b.queue.length;
    return total;
  }

  private async enqueue(bucket: Bucket, tokens: number, signal: AbortSignal | undefined, onQueued: QueuedListener | undefined): Promise<Permit> {
    const start = this.clock.now();
    let wakeTurn = noop;
    const turn = new Promise<void>((resolve) => {
      wakeTurn = resolve;
    });
    const waiter: Waiter = { turn, wakeTurn };
    const eta = this.waitFor(bucket, bucket.queue.length + 1, bucket.queuedTokens + tokens, tokens);
    bucket.queue.push(waiter);
    bucket.queuedTokens += tokens;
    if (bucket.queue.length === 1) waiter.wakeTurn();
    try {
      onQueued?.(eta.ms, eta.reason);
    } catch {
      // A failing listener must not lose the request its place in the queue.
    }

    try {
      for (;;) {
        if (bucket.queue[0] !== waiter) {
          await this.untilTurn(waiter, signal);
          continue;
        }
        this.refill(bucket);
        if (this.canTake(bucket, tokens)) break;
        const { ms } = this.waitFor(bucket, 1, tokens, tokens);
        if (signal?.aborted) throw cancelledError();
        const wake = new AbortController();
        bucket.wake = wake;
        // Linked by hand, not with AbortSignal.any: that registers the combined signal with the
        // caller's for as long as the caller's lives, and the orchestrator's default signal lives forever.
        const onAbort = (): void => wake.abort();
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await this.clock.sleep(Math.max(1, ms), wake.signal);
        } catch (err) {
          if (signal?.aborted || !wake.signal.aborted) throw err;
          // Woken early on purpose: look at the bucket again.
        } finally {
          signal?.removeEventListener('abort', onAbort);
          if (bucket.wake === wake) bucket.wake = undefined;
        }
      }
    } catch {
      this.leave(bucket, waiter, tokens);
      throw cancelledError();
    }
    this.take(bucket, tokens);
    this.leave(bucket, waiter, tokens);
    return this.permit(bucket, tokens, this.clock.now() - start, eta.reason);
  }

  private untilTurn(waiter: Waiter, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return waiter.turn;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(cancelledError());
      signal.addEventListener('abort', onAbort, { once: true });
      void waiter.turn.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Removes a waiter (served or cancelled) and hands the turn to the next one. */
  private leave(bucket: Bucket, waiter: Waiter, tokens: number): void {
    const index = bucket.queue.indexOf(waiter);
    if (index < 0) return;
    bucket.queue.splice(index, 1);
    bucket.queuedTokens = Math.max(0, bucket.queuedTokens - tokens);
    if (index === 0) bucket.queue[0]?.wakeTurn();
  }

  private bucketFor(keyId: string, rpm: number, tpm: number): Bucket {
    let b = this.buckets.get(keyId);
    if (!b) {
      b = { rpmCap: rpm, tpmCap: tpm, rpmTokens: rpm, tpmTokens: tpm, lastRefill: this.clock.now(), queue: [], queuedTokens: 0, wake: undefined };
      this.buckets.set(keyId, b);
      return b;
    }
    if (b.rpmCap !== rpm || b.tpmCap !== tpm) {
      this.refill(b);
      // A limit switched on starts full; a changed one keeps what is left, up to the new size.
      b.rpmTokens = b.rpmCap === 0 ? rpm : Math.min(b.rpmTokens, rpm);
      b.tpmTokens = b.tpmCap === 0 ? tpm : Math.min(b.tpmTokens, tpm);
      b.rpmCap = rpm;
      b.tpmCap = tpm;
      b.wake?.abort();
    }
    return b;
  }

  private refill(b: Bucket): void {
    const now = this.clock.now();
    const elapsed = now - b.lastRefill;
    if (elapsed <= 0) return;
    b.lastRefill = now;
    if (b.rpmCap > 0) b.rpmTokens = Math.min(b.rpmCap, b.rpmTokens + (elapsed * b.rpmCap) / MINUTE_MS);
    if (b.tpmCap > 0) b.tpmTokens = Math.min(b.tpmCap, b.tpmTokens + (elapsed * b.tpmCap) / MINUTE_MS);
  }

  /** A request larger than the whole tpm budget goes when the bucket is full, so it never deadlocks. */
  private canTake(b: Bucket, tokens: number): boolean {
    if (b.rpmCap > 0 && b.rpmTokens < 1 - EPSILON) return false;
    if (b.tpmCap > 0 && b.tpmTokens < Math.min(tokens, b.tpmCap) - EPSILON) return false;
    return true;
  }

  private take(b: Bucket, tokens: number): void {
    if (b.rpmCap > 0) b.rpmTokens -= 1;
    if (b.tpmCap > 0) b.tpmTokens -= tokens;
  }

  /**
   * Time until `requests` requests totalling `tokens` tokens fit, from the bucket as it is now;
   * `ownTokens` is the last request's size (an oversized one only needs a full bucket).
   */
  private waitFor(b: Bucket, requests: number, tokens: number, ownTokens: number): { ms: number; reason: 'rpm' | 'tpm' } {
    let rpmMs = 0;
    let tpmMs = 0;
    if (b.rpmCap > 0) rpmMs = Math.max(0, Math.ceil(((requests - b.rpmTokens - EPSILON) * MINUTE_MS) / b.rpmCap));
    if (b.tpmCap > 0) {
      const needed = tokens - ownTokens + Math.min(ownTokens, b.tpmCap);
      tpmMs = Math.max(0, Math.ceil(((needed - b.tpmTokens - EPSILON) * MINUTE_MS) / b.tpmCap));
    }
    return tpmMs > rpmMs ? { ms: tpmMs, reason: 'tpm' } : { ms: rpmMs, reason: 'rpm' };
  }

  private permit(b: Bucket, tokens: number, waitedMs: number, reason: 'rpm' | 'tpm' | undefined): Permit {
    // Only a request that was charged against a tpm budget has anything to correct.
    let settled = b.tpmCap === 0;
    const settle = (actualTokens: number): void => {
      if (settled || b.tpmCap === 0 || !Number.isFinite(actualTokens) || actualTokens < 0) return;
      settled = true;
      this.refill(b);
      b.tpmTokens = Math.min(b.tpmCap, b.tpmTokens + tokens - actualTokens);
      // Tokens came back: the head of the queue may not need to wait as long as it planned.
      if (actualTokens < tokens) b.wake?.abort();
    };
    return reason === undefined ? { waitedMs, settle } : { waitedMs, reason, settle };
  }
}
