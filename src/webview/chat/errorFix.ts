// The button the chat shows next to an error: the shared vocabulary's fix for its code (or the one
// the host chose from the error's detail). Pure, so it is unit-tested without a DOM.
import { ACTIONS, errorFix, type ActionId } from '../../shared/errorVocabulary';
import type { ChatErrorInfo } from '../../shared/chatProtocol';

export function fixButton(error: ChatErrorInfo): { label: string; action: ActionId } | undefined {
  const fix = error.fix ?? errorFix(error.code);
  return fix ? { label: ACTIONS[fix].label, action: fix } : undefined;
}
