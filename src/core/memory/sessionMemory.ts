// A conversation's memory: the last turns and a few shared notes, kept per session whichever
// agent answers, so a fallback or an agent switch continues the same conversation.
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { ChatMessage } from '../types';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
  agentId?: string;
  task?: string;
  at: number;
}

const DEFAULT_MAX_NOTES = 20;
/** A note is a reminder, not a document: longer ones are cut. */
const MAX_NOTE_CHARS = 2_000;
const JSON_VERSION = 1;

const turnSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  agentId: z.string().optional(),
  task: z.string().optional(),
  at: z.number().finite(),
});

const memorySchema = z.object({
  version: z.literal(JSON_VERSION).optional(),
  turns: z.array(z.unknown()).default([]),
  notes: z.array(z.unknown()).default([]),
});

export interface SessionMemoryOptions {
  maxTurns: number;
  maxNotes?: number;
}

export class SessionMemory {
  private readonly maxTurns: number;
  private readonly maxNotes: number;
  private list: Turn[] = [];
  private shared: string[] = [];

  constructor(opts: SessionMemoryOptions) {
    this.maxTurns = Math.max(0, Math.floor(opts.maxTurns));
    this.maxNotes = Math.max(0, Math.floor(opts.maxNotes ?? DEFAULT_MAX_NOTES));
  }

  add(turn: Turn): void {
    if (this.maxTurns === 0) return;
    this.list.push({ ...turn });
    // shift(), not splice(0, n), which copies the array on every turn once it is full.
    while (this.list.length > this.maxTurns) this.list.shift();
  }

  turns(): readonly Turn[] {
    return this.list;
  }

  /** A fresh start: turns and notes go. */
  clear(): void {
    this.list = [];
    this.shared = [];
  }

  /** Shared notes survive agent switches; a repeated note moves to the end instead of doubling. */
  addNote(note: string): void {
    const text = note.trim().slice(0, MAX_NOTE_CHARS);
    if (!text || this.maxNotes === 0) return;
    this.shared = this.shared.filter((n) => n !== text);
    this.shared.push(text);
    if (this.shared.length > this.maxNotes) this.shared.splice(0, this.shared.length - this.maxNotes);
  }

  notes(): readonly string[] {
    return this.shared;
  }

  /** History as chat messages (oldest first) for the next request, whichever agent answers. */
  toMessages(): ChatMessage[] {
    // An answer whose question fell out of the window would open the history with an assistant
    // turn, which Anthropic rejects and which reads as a non sequitur anyway.
    const first = this.list.findIndex((t) => t.role === 'user');
    if (first < 0) return [];
    return this.list.slice(first).map((t) => ({ role: t.role, content: t.content }));
  }

  toJSON(): unknown {
    return { version: JSON_VERSION, turns: this.list.map((t) => ({ ...t })), notes: [...this.shared] };
  }

  /** Whatever `raw` is, a usable memory comes back: invalid turns and notes are left out. */
  static fromJSON(raw: unknown, maxTurns: number): SessionMemory {
    const memory = new SessionMemory({ maxTurns });
    const parsed = memorySchema.safeParse(raw);
    if (!parsed.success) return memory;
    for (const t of parsed.data.turns) {
      const turn = turnSchema.safeParse(t);
      if (turn.success) memory.add(turn.data);
    }
    for (const n of parsed.data.notes) if (typeof n === 'string') memory.addNote(n);
    return memory;
  }
}

export interface SessionStoreOptions {
  maxTurns: number;
  /** Sessions kept; the least recently used one is forgotten first. */
  maxSessions?: number;
  maxNotes?: number;
}

/** The memories of the open sessions (chat panels, CLI runs), bounded. */
export class SessionStore {
  private readonly sessions: LRUCache<string, SessionMemory>;

  constructor(private readonly opts: SessionStoreOptions) {
    this.sessions = new LRUCache({ max: Math.max(1, Math.floor(opts.maxSessions ?? 50)) });
  }

  /** The session's memory, created empty on first use. */
  get(sessionId: string): SessionMemory {
    let memory = this.sessions.get(sessionId);
    if (!memory) {
      memory = new SessionMemory({ maxTurns: this.opts.maxTurns, maxNotes: this.opts.maxNotes });
      this.sessions.set(sessionId, memory);
    }
    return memory;
  }

  /** Restores a session saved with `toJSON` (after a reload). */
  restore(sessionId: string, raw: unknown): SessionMemory {
    const memory = SessionMemory.fromJSON(raw, this.opts.maxTurns);
    this.sessions.set(sessionId, memory);
    return memory;
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  delete(sessionId: string): boolean {
    return this.sessions.delete(sessionId);
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }
}
