import assert from 'node:assert/strict';
import { SessionMemory, SessionStore, type Turn } from '../../../src/core/memory/sessionMemory';

const turn = (role: Turn['role'], content: string, extra: Partial<Turn> = {}): Turn => ({ role, content, at: 1_700_000_000_000, ...extra });

describe('SessionMemory', () => {
  it('keeps only the last maxTurns turns', () => {
    const m = new SessionMemory({ maxTurns: 4 });
    for (let i = 0; i < 10; i++) m.add(turn(i % 2 === 0 ? 'user' : 'assistant', `t${i}`));
    assert.deepEqual(m.turns().map((t) => t.content), ['t6', 't7', 't8', 't9']);
  });

  it('gives the history as chat messages, oldest first, whichever agent answered', () => {
    const m = new SessionMemory({ maxTurns: 10 });
    m.add(turn('user', 'write a sort', { task: 'code' }));
    m.add(turn('assistant', 'here is quicksort', { agentId: 'gpt', task: 'code' }));
    m.add(turn('user', 'now in Rust'));
    m.add(turn('assistant', 'fn sort…', { agentId: 'claude' }));
    assert.deepEqual(m.toMessages(), [
      { role: 'user', content: 'write a sort' },
      { role: 'assistant', content: 'here is quicksort' },
      { role: 'user', content: 'now in Rust' },
      { role: 'assistant', content: 'fn sort…' },
    ]);
  });

  it('never opens the history with an answer whose question fell out of the window', () => {
    const m = new SessionMemory({ maxTurns: 3 });
    m.add(turn('user', 'q1'));
    m.add(turn('assistant', 'a1'));
    m.add(turn('user', 'q2'));
    m.add(turn('assistant', 'a2'));
    assert.deepEqual(m.turns().map((t) => t.content), ['a1', 'q2', 'a2']);
    assert.deepEqual(m.toMessages().map((t) => t.content), ['q2', 'a2']);
  });

  it('keeps shared notes across agent switches, bounded, without duplicates', () => {
    const m = new SessionMemory({ maxTurns: 2, maxNotes: 3 });
    m.addNote('the project uses tabs');
    m.add(turn('user', 'q', { agentId: 'gpt' }));
    m.add(turn('assistant', 'a', { agentId: 'gpt' }));
    m.add(turn('user', 'q', { agentId: 'claude' }));
    m.add(turn('assistant', 'a', { agentId: 'claude' }));
    m.addNote('  target Node 20  ');
    m.addNote('');
    m.addNote('the project uses tabs');
    assert.deepEqual(m.notes(), ['target Node 20', 'the project uses tabs']);
    m.addNote('n3');
    m.addNote('n4');
    assert.deepEqual(m.notes(), ['the project uses tabs', 'n3', 'n4']);
    assert.equal(new SessionMemory({ maxTurns: 1 }).notes().length, 0);
  });

  it('defaults to twenty notes', () => {
    const m = new SessionMemory({ maxTurns: 1 });
    for (let i = 0; i < 25; i++) m.addNote(`note ${i}`);
    assert.equal(m.notes().length, 20);
    assert.equal(m.notes()[0], 'note 5');
  });

  it('clear() starts afresh', () => {
    const m = new SessionMemory({ maxTurns: 5 });
    m.add(turn('user', 'x'));
    m.addNote('y');
    m.clear();
    assert.deepEqual(m.turns(), []);
    assert.deepEqual(m.notes(), []);
    assert.deepEqual(m.toMessages(), []);
  });

  it('is not changed through the turn passed to add()', () => {
    const m = new SessionMemory({ maxTurns: 5 });
    const t = turn('user', 'original');
    m.add(t);
    t.content = 'changed';
    assert.equal(m.turns()[0].content, 'original');
  });

  it('round-trips through JSON', () => {
    const m = new SessionMemory({ maxTurns: 6 });
    m.add(turn('user', 'q', { task: 'analysis' }));
    m.add(turn('assistant', 'a', { agentId: 'claude', task: 'analysis', at: 1_700_000_000_500 }));
    m.addNote('remember me');
    const restored = SessionMemory.fromJSON(JSON.parse(JSON.stringify(m.toJSON())), 6);
    assert.deepEqual(restored.turns(), m.turns());
    assert.deepEqual(restored.notes(), m.notes());
    assert.deepEqual(restored.toMessages(), m.toMessages());
  });

  it('applies the new bound when restoring', () => {
    const m = new SessionMemory({ maxTurns: 10 });
    for (let i = 0; i < 10; i++) m.add(turn(i % 2 === 0 ? 'user' : 'assistant', `t${i}`));
    assert.deepEqual(SessionMemory.fromJSON(m.toJSON(), 2).turns().map((t) => t.content), ['t8', 't9']);
  });

  it('turns junk into an empty memory, and keeps what is valid in half-broken input', () => {
    for (const junk of [undefined, null, 42, 'turns', [], { turns: 'nope' }, { turns: [{ role: 'system', content: 'x', at: 1 }] }, { notes: [1, 2] }]) {
      const m = SessionMemory.fromJSON(junk, 5);
      assert.deepEqual(m.turns(), []);
      assert.deepEqual(m.notes(), []);
    }
    const partial = SessionMemory.fromJSON(
      {
        version: 1,
        turns: [turn('user', 'kept'), { role: 'user', content: 5, at: 1 }, { role: 'assistant', content: 'no time' }, turn('assistant', 'also kept')],
        notes: ['ok', { note: 'bad' }],
      },
      5,
    );
    assert.deepEqual(partial.turns().map((t) => t.content), ['kept', 'also kept']);
    assert.deepEqual(partial.notes(), ['ok']);
  });
});

describe('SessionStore', () => {
  it('gives each session its own memory and creates it on first use', () => {
    const store = new SessionStore({ maxTurns: 4 });
    store.get('a').add(turn('user', 'for a'));
    store.get('b').add(turn('user', 'for b'));
    assert.deepEqual(store.get('a').turns().map((t) => t.content), ['for a']);
    assert.equal(store.get('a'), store.get('a'));
    assert.deepEqual(store.ids().sort(), ['a', 'b']);
  });

  it('forgets the least recently used session beyond its bound', () => {
    const store = new SessionStore({ maxTurns: 4, maxSessions: 2 });
    store.get('old').add(turn('user', 'x'));
    store.get('mid');
    store.get('old');
    store.get('new');
    assert.deepEqual(store.ids().sort(), ['new', 'old']);
    assert.equal(store.has('mid'), false);
  });

  it('deletes a session and restores one from JSON', () => {
    const store = new SessionStore({ maxTurns: 4 });
    store.get('s').add(turn('user', 'hello'));
    const saved = store.get('s').toJSON();
    assert.equal(store.delete('s'), true);
    assert.equal(store.has('s'), false);
    assert.equal(store.delete('s'), false);
    store.restore('s', saved);
    assert.deepEqual(store.get('s').toMessages(), [{ role: 'user', content: 'hello' }]);
  });
});
