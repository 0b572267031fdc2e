// Structured output for tasks that have a schema: the instructions sent to the model, and the
// strict parse of its answer. Invalid output is never passed on.
import { z } from 'zod';

export const analysisSchema = z.object({
  summary: z.string().min(1),
  findings: z
    .array(
      z.object({
        title: z.string().min(1),
        severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).default('info'),
        detail: z.string().default(''),
        line: z.number().int().positive().optional(),
      }),
    )
    .default([]),
  confidence: z.number().min(0).max(1),
});

export type AnalysisResult = z.output<typeof analysisSchema>;

export interface StructuredSpec<T> {
  schema: z.ZodType<T>;
  instructions: string;
}

export const ANALYSIS_SPEC: StructuredSpec<AnalysisResult> = {
  schema: analysisSchema,
  instructions:
    'Respond with JSON only, no prose and no code fence, matching exactly: ' +
    '{"summary": string, "findings": [{"title": string, "severity": "info"|"low"|"medium"|"high"|"critical", "detail": string, "line"?: number}], "confidence": number between 0 and 1}.',
};

/** Tasks that answer with structured output. */
export function structuredSpecFor(task: string): StructuredSpec<AnalysisResult> | undefined {
  return task === 'analysis' ? ANALYSIS_SPEC : undefined;
}

/** Pulls the JSON object out of a model answer (tolerating a code fence), then validates it. */
export function parseStructured<T>(text: string, spec: StructuredSpec<T>): { ok: true; value: T } | { ok: false; problem: string } {
  let body = text.trim();
  const fence = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(body);
  if (fence?.[1] !== undefined) body = fence[1];
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, problem: 'the answer held no JSON object' };
  let json: unknown;
  try {
    json = JSON.parse(body.slice(start, end + 1));
  } catch {
    return { ok: false, problem: 'the answer was not valid JSON' };
  }
  const r = spec.schema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return { ok: false, problem: first ? `${first.path.join('.') || 'value'}: ${first.message}` : 'schema mismatch' };
  }
  return { ok: true, value: r.data };
}

export function repairPrompt(problem: string, spec: StructuredSpec<unknown>): string {
  return `Your previous answer could not be used (${problem}). ${spec.instructions}`;
}

export function analysisToMarkdown(a: AnalysisResult): string {
  const lines = [`**Summary.** ${a.summary}`, ''];
  if (a.findings.length === 0) lines.push('_No findings._');
  for (const f of a.findings) {
    lines.push(`- **${f.severity.toUpperCase()}** ${f.title}${f.line ? ` (line ${f.line})` : ''}${f.detail ? ` — ${f.detail}` : ''}`);
  }
  lines.push('', `_Confidence: ${Math.round(a.confidence * 100)} %_`);
  return lines.join('\n');
}
