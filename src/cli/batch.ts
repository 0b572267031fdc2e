// `maof batch`: reads JSONL requests, runs them with bounded concurrency, and reports results in
// input order (each as soon as it and everything before it are done).
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { MaofError } from '../core/errors';
import type { Orchestrator, RunResult } from '../core/orchestrator';
import { userTurn } from '../core/types';

// Messages read "Line 3: prompt is missing", not zod's "Invalid input: expected string, received undefined".
const text = (field: string) => z.string({ error: (iss) => (iss.input === undefined ? `${field} is missing` : `${field} must be a string`) });
const lineSchema = z
  .object(
    {
      prompt: text('prompt'),
      task: text('task').optional(),
      agent: text('agent').optional(),
    },
    { error: 'the line must be a JSON object' },
  )
  .refine((v) => !(v.task && v.agent), { message: 'use "task" or "agent", not both' });

export type BatchItem = { ok: true; prompt: string; task?: string; agent?: string } | { ok: false; error: MaofError };

const MAX_BATCH_BYTES = 200 * 1024 * 1024;

export function parseBatch(text: string): BatchItem[] {
  const items: BatchItem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      items.push({ ok: false, error: new MaofError('BAD_REQUEST', `Line ${i + 1} is not valid JSON — each line must be an object like {"prompt": "...", "task": "code"}.`) });
      return;
    }
    const r = lineSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      items.push({ ok: false, error: new MaofError('BAD_REQUEST', `Line ${i + 1}: ${issue?.message ?? 'invalid'} — expected {"prompt": "...", "task"?: "...", "agent"?: "..."}.`) });
      return;
    }
    items.push({ ok: true, ...r.data });
  });
  return items;
}

export function readBatchFile(file: string): BatchItem[] {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new MaofError('CONFIG', `Cannot read batch file ${file} — check the path.`);
  }
  if (size > MAX_BATCH_BYTES) throw new MaofError('CONFIG', `Batch file ${file} is over 200 MB — split it into smaller files.`);
  return parseBatch(readFileSync(file, 'utf8'));
}

export async function runBatch(
  orchestrator: Orchestrator,
  items: BatchItem[],
  opts: { concurrency: number; signal?: AbortSignal; onResult: (index: number, result: RunResult) => void },
): Promise<RunResult[]> {
  const results: Array<RunResult | undefined> = new Array<RunResult | undefined>(items.length);
  let next = 0;
  let flushed = 0;
  const flush = (): void => {
    while (flushed < items.length && results[flushed] !== undefined) {
      opts.onResult(flushed, results[flushed]!);
      flushed++;
    }
  };
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (!item.ok) {
        results[index] = { ok: false, requestId: `line-${index + 1}`, task: 'unknown', error: item.error, attempts: [], durationMs: 0, costUsd: 0, usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } };
      } else {
        results[index] = await orchestrator.run({ messages: [userTurn(item.prompt)], task: item.task ?? 'auto', agentId: item.agent, signal: opts.signal, source: 'CLI' });
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, Math.max(1, items.length)) }, worker));
  flush();
  return results as RunResult[];
}
