import * as assert from 'node:assert/strict';
import { onAbort } from '../../../src/core/abortLinks';

describe('abort links', () => {
  it('runs every linked callback once when the shared signal aborts, and none that unsubscribed', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const offA = onAbort(controller.signal, () => calls.push('a'));
    onAbort(controller.signal, () => calls.push('b'));
    const offC = onAbort(controller.signal, () => calls.push('c'));
    offC();
    controller.abort();
    controller.abort();
    offA();
    assert.deepEqual(calls, ['a', 'b']);
  });

  it('keeps one listener on the signal however many calls wait on it', () => {
    const controller = new AbortController();
    let added = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    const offs = Array.from({ length: 100 }, () => onAbort(controller.signal, () => undefined));
    for (const off of offs) off();
    assert.equal(added, 1);
  });
});
