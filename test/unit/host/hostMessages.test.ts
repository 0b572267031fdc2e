import assert from 'node:assert/strict';
import { describeIssue, warningText } from '../../../src/host/platform/configMessages';
import { keyProblem, MAX_KEY_LENGTH, storageNameFor } from '../../../src/host/platform/keyNames';
import { narrate } from '../../../src/host/platform/progressText';
import { usageCsv } from '../../../src/host/commands/usageCsv';

describe('host messages', () => {
  describe('key names', () => {
    it('maps the core names to SecretStorage names under one prefix', () => {
      assert.equal(storageNameFor('provider:openai'), 'maof.apiKey.openai');
      assert.equal(storageNameFor('provider:anthropic'), 'maof.apiKey.anthropic');
      assert.equal(storageNameFor('agent:local-llama'), 'maof.apiKey.agent.local-llama');
      assert.equal(storageNameFor('secret:work'), 'maof.apiKey.custom.work');
    });
    it('refuses names MAOF never stores', () => {
      for (const n of ['provider:google', 'openai', 'agent:', ':x', 'env:OPENAI_API_KEY']) assert.equal(storageNameFor(n), undefined, n);
    });
    it('accepts a pasted key with surrounding whitespace; rejects inner whitespace and absurd length', () => {
      assert.equal(keyProblem('  sk-abc123\n'), undefined);
      assert.equal(keyProblem(''), undefined, 'empty is handled by the caller (ignored with a message)');
      assert.match(keyProblem('sk-abc 123') ?? '', /no spaces/);
      assert.match(keyProblem('x'.repeat(MAX_KEY_LENGTH + 1)) ?? '', /512/);
      assert.equal(keyProblem('x'.repeat(MAX_KEY_LENGTH)), undefined);
    });
  });

  describe('settings warnings', () => {
    it('names the setting with its maof. prefix and the fallback', () => {
      const issue = { path: 'retry.maxAttempts', message: 'Too small: expected number to be >=1; using the default' };
      assert.equal(describeIssue(issue), 'maof.retry.maxAttempts — Too small: expected number to be >=1; using the default');
      assert.equal(warningText([issue]), 'MAOF: invalid setting maof.retry.maxAttempts — Too small: expected number to be >=1; using the default.');
    });
    it('lists a few problems and counts the rest', () => {
      const issues = Array.from({ length: 6 }, (_, i) => ({ path: `agents[${i}].model`, message: 'bad' }));
      const text = warningText(issues);
      assert.match(text, /^MAOF: 6 invalid settings — maof\.agents\[0\]\.model — bad;/);
      assert.match(text, /and 2 more \(see the MAOF log\)\.$/);
      assert.doesNotMatch(text, /agents\[4\]/);
    });
  });

  describe('progress narration', () => {
    const at = 0;
    it('tells the agent, the retry number, the reason and the wait', () => {
      const current: { agent?: string } = {};
      assert.equal(narrate('Generating', { type: 'request.started', at, requestId: 'r', task: 'code', agents: ['a', 'b'], pattern: 'single' }, current), 'Generating with a…');
      assert.equal(narrate('Generating', { type: 'retry.scheduled', at, requestId: 'r', agentId: 'a', attempt: 1, waitMs: 2_400, code: 'RATE_LIMITED' }, current), 'Generating with a… (retry 2 after rate-limited, waiting 3 s)');
      assert.equal(narrate('Generating', { type: 'fallback', at, requestId: 'r', from: 'a', to: 'b', reason: 'OVERLOADED' }, current), 'Generating with b… (a failed: overloaded)');
      assert.equal(current.agent, 'b');
      assert.equal(narrate('Generating', { type: 'cache.hit', at, requestId: 'r', agentId: 'b', savedUsd: 0 }, current), undefined);
    });
  });

  it('exports usage as CSV with a header and quoted fields', () => {
    const csv = usageCsv([
      { requestId: 'r1', at: Date.UTC(2025, 5, 1, 12), agentId: 'gpt,4', model: 'm"x', task: 'code', usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.0012, cached: false },
      { requestId: 'r2', at: Date.UTC(2025, 5, 1, 13), agentId: 'gpt', model: 'm', task: 'code', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.001, cached: false, source: 'VS Code Chat (@maof)' },
    ]);
    const [header, row, second] = csv.trimEnd().split('\n');
    assert.equal(header, 'time,requestId,agent,model,task,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd,cached,source');
    assert.equal(row, '2025-06-01T12:00:00.000Z,r1,"gpt,4","m""x",code,10,5,0,0,0.0012,false,');
    assert.equal(second, '2025-06-01T13:00:00.000Z,r2,gpt,m,code,1,1,0,0,0.001,false,VS Code Chat (@maof)');
  });
});
