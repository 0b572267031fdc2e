// The simulator's model of the providers' prompt caches: a prefix seen within the TTL is billed as
// a cache read. Anthropic caches only up to a `cache_control` breakpoint the request marked (and
// bills the first sight as a cache write), comparing prefixes at block boundaries (a tool, a
// system block, a content block); OpenAI caches every prompt of 1,024 tokens and more on its own,
// matching the prompt's bytes in 128-token (512-character) steps.
import { createHash, type Hash } from 'node:crypto';
import { anthropicCacheMinimum, OPENAI_CACHE_MINIMUM, OPENAI_CACHE_STEP } from '../core/providers/promptCache';
import type { SimProvider } from './faultPlan';

/** One block of a prompt in wire order: the bytes that identify it and the tokens up to its end. */
export interface PromptSegment {
  /** The block as sent, without its cache_control marker (a marker does not change the prefix). */
  text: string;
  /** Tokens of the whole prompt up to and including this block. */
  endTokens: number;
  /** The request marked a cache breakpoint on this block (Anthropic). */
  breakpoint: boolean;
}

export interface CacheBilling {
  readTokens: number;
  writeTokens: number;
}

/** Anthropic looks back this many blocks from a breakpoint for an earlier cached prefix. */
const LOOKBACK_BLOCKS = 20;
const MAX_ENTRIES = 50_000;
export const DEFAULT_PROMPT_CACHE_TTL_MS = 5 * 60_000;

export class PromptCacheModel {
  /** Prefix key → expiry time; insertion order is age order (a refresh re-inserts). */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private ttlMs = DEFAULT_PROMPT_CACHE_TTL_MS,
  ) {}

  setTtl(ms: number): void {
    this.ttlMs = Math.max(0, ms);
  }

  get ttl(): number {
    return this.ttlMs;
  }

  clear(): void {
    this.entries.clear();
  }

  /** Bills one request's prompt and remembers what it leaves in the cache. */
  bill(provider: SimProvider, model: string, segments: readonly PromptSegment[]): CacheBilling {
    if (segments.length === 0) return { readTokens: 0, writeTokens: 0 };
    const total = segments[segments.length - 1].endTokens;
    if (provider === 'openai') {
      if (total < OPENAI_CACHE_MINIMUM) return { readTokens: 0, writeTokens: 0 };
      // OpenAI matches the prompt's bytes in 128-token steps, wherever a message ends.
      const text = segments.map((seg) => seg.text).join('\0');
      const keys = chunkKeys(provider, model, text, OPENAI_CACHE_STEP * 4);
      let matched = 0;
      for (let i = keys.length - 1; i >= 0; i--) {
        if (this.live(keys[i])) {
          // The matched bytes' share of the billed tokens (JSON escapes make bytes outnumber the text), in whole steps.
          matched = Math.floor((((i + 1) * OPENAI_CACHE_STEP * 4) / text.length) * total / OPENAI_CACHE_STEP) * OPENAI_CACHE_STEP;
          break;
        }
      }
      for (let i = OPENAI_CACHE_MINIMUM / OPENAI_CACHE_STEP - 1; i < keys.length; i++) this.put(keys[i]);
      return { readTokens: matched >= OPENAI_CACHE_MINIMUM ? matched : 0, writeTokens: 0 };
    }
    const minimum = anthropicCacheMinimum(model);
    const marked: number[] = [];
    for (let i = 0; i < segments.length; i++) if (segments[i].breakpoint && segments[i].endTokens >= minimum) marked.push(i);
    if (marked.length === 0) return { readTokens: 0, writeTokens: 0 };
    const keys = prefixKeys(provider, model, segments);
    let hit = -1;
    for (const b of marked) {
      for (let j = b; j >= Math.max(0, b - LOOKBACK_BLOCKS + 1); j--) {
        if (j > hit && this.live(keys[j])) {
          hit = j;
          break;
        }
      }
    }
    const read = hit >= 0 ? segments[hit].endTokens : 0;
    if (hit >= 0) this.put(keys[hit]);
    for (const b of marked) this.put(keys[b]);
    const last = segments[marked[marked.length - 1]].endTokens;
    return { readTokens: read, writeTokens: Math.max(0, last - read) };
  }

  private live(key: string): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  private put(key: string): void {
    this.entries.delete(key);
    this.entries.set(key, this.now() + this.ttlMs);
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/** The key of each whole `chunk`-character prefix of `text`, from one running hash. */
function chunkKeys(provider: SimProvider, model: string, text: string, chunk: number): string[] {
  const hash: Hash = createHash('sha256').update(`${provider}\0${model}\0`);
  const keys: string[] = [];
  for (let at = 0; at + chunk <= text.length; at += chunk) {
    hash.update(text.slice(at, at + chunk));
    keys.push(hash.copy().digest('base64'));
  }
  return keys;
}

/** The key of each prefix (blocks 0..i), from one running hash: linear in the prompt's size. */
function prefixKeys(provider: SimProvider, model: string, segments: readonly PromptSegment[]): string[] {
  const hash: Hash = createHash('sha256').update(`${provider}\0${model}\0`);
  const keys = new Array<string>(segments.length);
  for (let i = 0; i < segments.length; i++) {
    hash.update(segments[i].text).update('\0');
    keys[i] = hash.copy().digest('base64');
  }
  return keys;
}
