// Token counts for VS Code's Language Model API, which asks for every message of every request:
// the real tokenizer of the model's provider, with counts remembered by text so that a
// conversation resent on each turn costs a lookup, not a re-tokenisation. Pure (no vscode).
import { LRUCache } from 'lru-cache';
import type { Tokenizer } from '../../core/context/tokenizer';
import { countableText, type LmMessageLike } from './lmMessages';

export class MessageTokenCounter {
  /** One memo per tokenizer, keyed by the text itself (no key string is built per call). */
  private readonly memos = new Map<string, LRUCache<string, number>>();

  constructor(private readonly maxChars = 64_000_000) {}

  count(tokenizer: Tokenizer, message: string | LmMessageLike): number {
    const text = countableText(message);
    let memo = this.memos.get(tokenizer.name);
    if (!memo) {
      memo = new LRUCache<string, number>({ max: 4096, maxSize: this.maxChars, sizeCalculation: (_n, t) => t.length + 1 });
      this.memos.set(tokenizer.name, memo);
    }
    let n = memo.get(text);
    if (n === undefined) {
      n = tokenizer.count(text);
      memo.set(text, n);
    }
    return n;
  }
}
