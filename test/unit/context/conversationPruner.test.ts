import assert from 'node:assert/strict';
import { OMITTED_TURNS_NOTE, pruneConversation } from '../../../src/core/context/conversationPruner';
import { toAnthropicMessages, toOpenAIMessages } from '../../../src/core/providers/toolWire';
import type { ChatMessage } from '../../../src/core/types';
import { toolLinkProblem } from '../../../src/simulator/providerSimulator';
import { mulberry32 } from './randomText';

// One token per character of content, plus 10 per tool part: easy to reason about budgets.
const count = (m: ChatMessage): number => m.content.length + 10 * (m.parts?.filter((p) => p.type !== 'text').length ?? 0);

const sys = (text: string): ChatMessage => ({ role: 'system', content: text });
const user = (text: string): ChatMessage => ({ role: 'user', content: text });
const answer = (text: string): ChatMessage => ({ role: 'assistant', content: text });
function calls(...ids: string[]): ChatMessage {
  return { role: 'assistant', content: '', parts: ids.map((id) => ({ type: 'tool_call' as const, id, name: 'read_file', input: { path: `${id}.ts` } })) };
}
function results(...ids: string[]): ChatMessage {
  return { role: 'user', content: '', parts: ids.map((id) => ({ type: 'tool_result' as const, callId: id, content: `contents of ${id}` })) };
}

function total(ms: readonly ChatMessage[]): number {
  return ms.reduce((s, m) => s + count(m), 0);
}

/** What each provider would answer with 400 about, or undefined when both take the request. */
function rejection(ms: readonly ChatMessage[]): string | undefined {
  const anthropic = toAnthropicMessages(ms).messages;
  if (anthropic[0]?.role !== 'user') return 'anthropic: messages: first message must use the "user" role';
  return toolLinkProblem('openai', toOpenAIMessages(ms)) ?? toolLinkProblem('anthropic', anthropic);
}

describe('pruneConversation', () => {
  it('returns the conversation unchanged when it fits, and counts every turn once', () => {
    const conv = [sys('be brief'), user('hello'), answer('hi'), user('what is 2+2?')];
    let asked = 0;
    const out = pruneConversation(conv, 1000, (m) => (asked++, count(m)));
    assert.deepEqual(out, { messages: conv, droppedTurns: 0, usedTokens: total(conv) });
    assert.equal(asked, conv.length);
  });

  it('drops the oldest question and its answer first, keeping the system turn and the new question', () => {
    const conv = [sys('S'.repeat(10)), user('Q'.repeat(100)), answer('A'.repeat(100)), user('q'.repeat(20)), answer('a'.repeat(20)), user('now?')];
    const out = pruneConversation(conv, 60, count);
    assert.ok(out);
    assert.deepEqual(out.messages, [conv[0], conv[3], conv[4], conv[5]]);
    assert.equal(out.droppedTurns, 2);
    assert.equal(out.usedTokens, 10 + 20 + 20 + 4);
  });

  it('drops an answer whose question was dropped rather than open the kept turns with it', () => {
    // Room for the old answer, not for its question: an answer to nothing is dropped too.
    const conv = [user('Q'.repeat(100)), answer('A'.repeat(10)), user('q'.repeat(10)), answer('a'.repeat(10)), user('now?')];
    // Even with room for the note in front of it.
    const out = pruneConversation(conv, total(conv.slice(1)) + count(OMITTED_TURNS_NOTE), count);
    assert.ok(out);
    assert.deepEqual(out.messages, conv.slice(2));
    assert.equal(rejection(out.messages), undefined);
  });

  it('drops a tool call together with its result, never leaving an orphan result behind', () => {
    const conv = [sys('S'), user('find the bug'), calls('c1'), results('c1'), answer('it is in a.ts'), user('x'.repeat(50)), answer('y'.repeat(50)), user('fix it')];
    // From room for all but the question down to room for the result turn and what follows: a cut
    // between c1's call and its result would fit, but the result goes with its call.
    for (let budget = total(conv) - count(conv[1]); budget >= total(conv) - total(conv.slice(1, 3)); budget--) {
      const out = pruneConversation(conv, budget, count);
      assert.deepEqual(out?.messages, [conv[0], ...conv.slice(5)], `budget ${budget}`);
      assert.equal(out.droppedTurns, 4);
      assert.equal(rejection(out.messages), undefined);
    }
  });

  it('keeps several calls of one turn and their parallel results together, in one or several result turns', () => {
    const conv = [
      user('look at three files'),
      calls('a', 'b', 'c'),
      results('a', 'b'),
      results('c'),
      answer('z'.repeat(200)),
      user('and now?'),
    ];
    for (let budget = total(conv); budget >= 0; budget--) {
      const out = pruneConversation(conv, budget, count);
      if (!out) {
        assert.ok(budget < count(conv[5]), `budget ${budget} fits the last question but was refused`);
        continue;
      }
      assert.ok(out.usedTokens <= budget);
      assert.equal(rejection(out.messages), undefined, `budget ${budget}: ${out.messages.map((m) => m.role).join(',')}`);
      const kept = out.messages.filter((m) => m.parts?.some((p) => p.type !== 'text'));
      assert.ok(kept.length === 0 || kept.length === 3, `budget ${budget} split the call turn from its results`);
    }
  });

  it('bridges an agent loop with a note when the kept turns would open with a tool call', () => {
    // An agent loop: one question, then rounds of calls and results, the last result the newest user turn.
    const conv: ChatMessage[] = [sys('tools available'), user('Q'.repeat(200))];
    for (let i = 0; i < 5; i++) conv.push(calls(`r${i}`), results(`r${i}`));
    const round = count(conv[2]) + count(conv[3]);
    const budget = count(conv[0]) + count(OMITTED_TURNS_NOTE) + 2 * round;
    const out = pruneConversation(conv, budget, count);
    assert.ok(out);
    assert.deepEqual(out.messages, [conv[0], OMITTED_TURNS_NOTE, ...conv.slice(-4)]);
    assert.equal(out.droppedTurns, 1 + 3 * 2);
    assert.equal(out.usedTokens, budget);
    assert.equal(rejection(out.messages), undefined);
  });

  it('keeps the call turn of the newest results even though it comes before the last user turn', () => {
    const conv = [user('Q'.repeat(100)), calls('x'), results('x')];
    const out = pruneConversation(conv, count(OMITTED_TURNS_NOTE) + count(conv[1]) + count(conv[2]), count);
    assert.ok(out);
    assert.deepEqual(out.messages, [OMITTED_TURNS_NOTE, conv[1], conv[2]]);
    assert.equal(rejection(out.messages), undefined);
  });

  it('is undefined when even the system turns and the last question do not fit', () => {
    const conv = [sys('S'.repeat(30)), user('old'), answer('older'), user('Q'.repeat(30))];
    assert.equal(pruneConversation(conv, 59, count), undefined);
    assert.deepEqual(pruneConversation(conv, 60, count)?.messages, [conv[0], conv[3]]);
  });

  it('is undefined when the newest call and its results alone are over the budget', () => {
    const conv = [user('q'), calls('big'), { ...results('big'), content: 'r'.repeat(500) }];
    // Room for the result alone, not with its call.
    assert.equal(pruneConversation(conv, count(conv[2]), count), undefined);
  });

  it('keeps system turns in their place, wherever they are', () => {
    const conv = [sys('A'), user('x'.repeat(100)), answer('y'.repeat(100)), sys('B'), user('go')];
    const out = pruneConversation(conv, 10, count);
    assert.deepEqual(out?.messages, [conv[0], conv[3], conv[4]]);
    assert.equal(out?.droppedTurns, 2);
  });

  it('on long random conversations: always valid for both providers, within budget, dropping the fewest turns, counting each turn once', () => {
    const rnd = mulberry32(11);
    for (let run = 0; run < 40; run++) {
      const conv: ChatMessage[] = [sys('you are a coding agent')];
      let id = 0;
      const turns = 200 + Math.floor(rnd() * 800);
      while (conv.length < turns) {
        conv.push(user('q'.repeat(1 + Math.floor(rnd() * 40))));
        const rounds = Math.floor(rnd() * 4);
        for (let r = 0; r < rounds; r++) {
          const ids = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => `call_${id++}`);
          conv.push(calls(...ids));
          // Results in one turn or spread over several.
          if (rnd() < 0.5) conv.push(results(...ids));
          else for (const c of ids) conv.push(results(c));
        }
        conv.push(answer('a'.repeat(Math.floor(rnd() * 60))));
      }
      conv.push(user('the question'));
      assert.equal(rejection(conv), undefined, 'the generator makes valid conversations');
      const budget = Math.floor(rnd() * total(conv));
      let counted = 0;
      const out = pruneConversation(conv, budget, (m) => (counted++, count(m)));
      assert.ok(counted <= conv.length + 1, `count called ${counted} times for ${conv.length} turns`);
      if (!out) {
        assert.ok(budget < count(conv[0]) + count(conv[conv.length - 1]), `budget ${budget} fits the system turn and the question but was refused`);
        continue;
      }
      assert.ok(out.usedTokens <= budget);
      assert.equal(out.usedTokens, total(out.messages));
      assert.equal(rejection(out.messages), undefined);
      // The kept turns are the input's newest ones (after the system turn), in order.
      const kept = out.messages.filter((m) => m !== conv[0] && m.content !== OMITTED_TURNS_NOTE.content);
      assert.deepEqual(kept, conv.slice(conv.length - kept.length));
      assert.equal(out.droppedTurns, conv.length - 1 - kept.length);
      // Fewest dropped: one more turn kept would not fit or not be a valid cut.
      const more = conv.slice(conv.length - kept.length - 1);
      if (more.length < conv.length) {
        const bigger = [conv[0], ...more];
        const asIs = rejection(bigger) === undefined && total(bigger) <= budget;
        const bridged = rejection([conv[0], OMITTED_TURNS_NOTE, ...more]) === undefined && total(bigger) + count(OMITTED_TURNS_NOTE) <= budget && more[0].parts !== undefined;
        assert.ok(!asIs && !bridged, `run ${run}: could have kept ${more.length} turns within ${budget}`);
      }
    }
  });
});
