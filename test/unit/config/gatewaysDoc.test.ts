// The agent examples in docs/GATEWAYS.md are valid settings with no problems to warn about.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../src/core/config/schema';

describe('docs/GATEWAYS.md examples', () => {
  it('parse as settings with no issues (keys not in headers, pricing set for every alias)', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/GATEWAYS.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as Record<string, unknown>);
    assert.equal(blocks.length, 3);
    for (const block of blocks) {
      const settings = 'maof.agents' in block ? { agents: block['maof.agents'], routes: block['maof.routes'] } : { agents: [block] };
      const { config, issues } = parseConfig(settings);
      assert.deepEqual(issues, []);
      for (const agent of (settings.agents as Array<{ id: string }>)) {
        const parsed = config.agents.find((a) => a.id === agent.id);
        assert.ok(parsed?.pricing, `${agent.id} has pricing`);
        for (const [name, value] of Object.entries(parsed.headers ?? {})) assert.doesNotMatch(`${name} ${value}`, /api[-_]?key|authorization|bearer|\bsk-/i, 'no key in headers');
      }
    }
  });
});
