import assert from 'node:assert/strict';
import { cliMessage } from '../../../src/cli/main';

describe('CLI error wording', () => {
  it('names environment variables, not editor commands, as the fix for a missing key', () => {
    const m = cliMessage('No OpenAI API key is set for agent "gpt-4.1" — run "MAOF: Set API Key".');
    assert.match(m, /OPENAI_API_KEY/);
    assert.doesNotMatch(m, /MAOF: Set API Key/);
  });

  it('names `maof breakers reset` for a paused agent', () => {
    const m = cliMessage('Agent "fast" has its circuit breaker open after repeated failures — MAOF will try it again shortly, or run "MAOF: Reset Circuit Breakers".');
    assert.match(m, /run "maof breakers reset"/);
  });

  it('leaves other messages alone', () => {
    const m = 'Monthly budget of $20.00 reached ($20.00 spent) — raise maof.budget.monthlyUsd or wait until next month.';
    assert.equal(cliMessage(m), m);
  });
});
