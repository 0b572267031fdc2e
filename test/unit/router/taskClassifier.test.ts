import assert from 'node:assert/strict';
import { defaultConfig } from '../../../src/core/config/schema';
import { classifyTask, parseClassifierAnswer } from '../../../src/core/router/taskClassifier';

const tasks = defaultConfig().tasks;

describe('auto task classification', () => {
  const cases: Array<[string, string]> = [
    ['Write a function that parses ISO dates in TypeScript', 'code'],
    ['refactor this class to use dependency injection', 'code'],
    ['```ts\nconst x = 1;\n```\nmake it generic', 'code'],
    ['Write a commit message for these changes', 'writing'],
    ['Proofread this paragraph and make it clearer', 'writing'],
    ['Draft documentation for the public API', 'writing'],
    ['Explain what this regex does', 'analysis'],
    ['Review this module for security vulnerabilities', 'analysis'],
    ['Why does this loop never terminate?', 'analysis'],
  ];
  for (const [prompt, expected] of cases) {
    it(`"${prompt.slice(0, 40)}…" → ${expected}`, () => {
      assert.equal(classifyTask(prompt, tasks).task, expected);
    });
  }

  it('uses user-defined task keywords', () => {
    const custom = { ...tasks, translate: { description: 'Translate text', keywords: ['translate', 'in french'], systemPrompt: undefined } };
    assert.equal(classifyTask('translate this into German please', custom).task, 'translate');
  });

  it('is unsure when there is no signal, and says so', () => {
    const c = classifyTask('hmm', tasks);
    assert.ok(c.confidence < 0.5);
    assert.equal(c.source, 'default');
  });

  it('reads a classifier agent answer only when it names a known task', () => {
    assert.equal(parseClassifierAnswer('  Analysis.\n', tasks), 'analysis');
    assert.equal(parseClassifierAnswer('I think cooking', tasks), undefined);
  });
});
