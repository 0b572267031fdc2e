import assert from 'node:assert/strict';
import { ANALYSIS_SPEC, analysisToMarkdown, parseStructured } from '../../../src/core/structuredOutput';

describe('structured output', () => {
  it('parses a valid analysis, also inside a code fence', () => {
    const body = '{"summary":"ok","findings":[{"title":"t","severity":"high","detail":"d","line":3}],"confidence":0.7}';
    for (const text of [body, '```json\n' + body + '\n```', 'Here you go:\n' + body]) {
      const r = parseStructured(text, ANALYSIS_SPEC);
      assert.ok(r.ok);
      if (r.ok) assert.equal(r.value.findings[0]?.severity, 'high');
    }
  });

  it('rejects prose, broken JSON and out-of-range confidence with a reason', () => {
    const cases = ['Looks fine to me.', '{"summary": "x", ', '{"summary":"x","findings":[],"confidence":7}'];
    for (const text of cases) {
      const r = parseStructured(text, ANALYSIS_SPEC);
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(r.problem.length > 0);
    }
  });

  it('renders findings as markdown a user can read', () => {
    const md = analysisToMarkdown({ summary: 'S', findings: [{ title: 'Leak', severity: 'medium', detail: 'closes late', line: 9 }], confidence: 0.5 });
    assert.match(md, /\*\*MEDIUM\*\* Leak \(line 9\) — closes late/);
    assert.match(md, /Confidence: 50 %/);
  });
});
