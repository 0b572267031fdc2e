// The bare-SDK side of the P6 batch comparison: the same requests `maof batch` sends (same system
// prompt, max tokens and temperature), with the same concurrency, from a process of its own, one
// JSON line per answer on stdout in input order. Built to plain JS by bench/batchVsBare.ts so both
// sides pay the same kind of start-up.
// With "transport": "maof" in the spec the client is given the fetch MAOF's adapters use
// (providers/httpTransport.ts) instead of Node's global fetch.
//   node bareBatch.js SPEC.json
import { readFileSync } from 'node:fs';
import { OpenAI } from 'openai';
import { transportFetch } from '../src/core/providers/httpTransport';

interface Spec {
  baseURL: string;
  apiKey: string;
  model: string;
  system: string;
  maxTokens: number;
  temperature?: number;
  concurrency: number;
  promptsFile: string;
  transport?: 'global' | 'maof';
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Spec;
  const prompts = readFileSync(spec.promptsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { prompt: string }).prompt);
  const client = new OpenAI({ apiKey: spec.apiKey, baseURL: spec.baseURL, maxRetries: 0, logLevel: 'off', ...(spec.transport === 'maof' ? { fetch: transportFetch } : {}) });
  const results: Array<string | undefined> = new Array<string | undefined>(prompts.length);
  let next = 0;
  let flushed = 0;
  let failed = 0;
  const flush = (): void => {
    while (flushed < prompts.length && results[flushed] !== undefined) process.stdout.write(`${results[flushed++]}\n`);
  };
  const worker = async (): Promise<void> => {
    while (next < prompts.length) {
      const index = next++;
      try {
        const res = await client.chat.completions.create({
          model: spec.model,
          messages: [
            { role: 'system', content: spec.system },
            { role: 'user', content: prompts[index] },
          ],
          max_tokens: spec.maxTokens,
          ...(spec.temperature !== undefined ? { temperature: spec.temperature } : {}),
        });
        const text = res.choices[0]?.message.content ?? '';
        results[index] = JSON.stringify({ ok: true, text, usage: { inputTokens: res.usage?.prompt_tokens ?? 0, outputTokens: res.usage?.completion_tokens ?? 0 } });
      } catch (err) {
        failed++;
        results[index] = JSON.stringify({ ok: false, error: { message: err instanceof Error ? err.message : String(err) } });
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, prompts.length) }, worker));
  flush();
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
