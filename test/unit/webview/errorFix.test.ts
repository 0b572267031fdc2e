// The chat's fix button next to an error comes from the shared vocabulary: the same label and
// action the editor's notification offers, for every code that has one.
import assert from 'node:assert/strict';
import { ACTIONS, ERROR_CODES, ERROR_VOCABULARY } from '../../../src/shared/errorVocabulary';
import { fixButton } from '../../../src/webview/chat/errorFix';

describe('chat fix buttons (webview)', () => {
  it('offers the vocabulary’s fix for every code that has one, and none for the others', () => {
    for (const code of ERROR_CODES) {
      const fix = ERROR_VOCABULARY[code].fix;
      assert.deepEqual(fixButton({ code, message: 'm' }), fix ? { label: ACTIONS[fix].label, action: fix } : undefined, code);
    }
    assert.deepEqual(fixButton({ code: 'CIRCUIT_OPEN', message: 'm' }), { label: 'Reset Circuit Breakers', action: 'resetBreakers' });
    assert.deepEqual(fixButton({ code: 'BUDGET_EXCEEDED', message: 'm' }), { label: 'Open Budget Settings', action: 'openBudgetSettings' });
  });

  it('takes the fix the host chose from the error’s detail, and ignores a code it does not know', () => {
    assert.deepEqual(fixButton({ code: 'BUDGET_EXCEEDED', message: 'm', fix: 'resetSpendHistory' }), { label: 'Reset Spend History', action: 'resetSpendHistory' });
    assert.equal(fixButton({ code: 'SOMETHING_NEW', message: 'm' }), undefined);
  });
});
