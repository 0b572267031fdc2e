// The one error vocabulary: every code has its words, one word per concept, each fix is a command
// the extension really has (titled as the button says), and every editor fix a core message names
// has words for a terminal.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as coreErrors from '../../../src/core/errors';
import { cliMessage } from '../../../src/cli/main';
import { ACTION_IDS, ACTIONS, ERROR_CODES, ERROR_VOCABULARY, errorFix, errorLabel, paletteFix, WAIT_REASONS, WAIT_VOCABULARY, type ErrorCode } from '../../../src/shared/errorVocabulary';
import { CHAT_ACTIONS } from '../../../src/shared/chatProtocol';

const root = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: { commands: Array<{ command: string; title: string; category: string }>; configuration: { properties: Record<string, unknown> } };
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

// The core's codes are the vocabulary's, as types: a code added to one list and not the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameCodes: Same<coreErrors.ErrorCode, ErrorCode> = true;

describe('error vocabulary (src/shared/errorVocabulary.ts)', () => {
  it('is the core’s list of codes, and every code has a label and an explanation', () => {
    assert.ok(sameCodes);
    assert.deepEqual([...coreErrors.ERROR_CODES], [...ERROR_CODES]);
    assert.deepEqual(Object.keys(ERROR_VOCABULARY).sort(), [...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const words = ERROR_VOCABULARY[code];
      assert.match(words.label, /^[a-z][a-z -]{2,30}$/, `${code}: a short lower-case label`);
      assert.match(words.explanation, /^[A-Z].{20,200}\.$/, `${code}: one sentence`);
      assert.doesNotMatch(words.explanation, /https?:|\b[A-Z]+_[A-Z_]+\b/, `${code}: no endpoint and no code in what the user reads`);
      assert.ok(!words.explanation.includes(code), code);
    }
  });

  it('gives each code its own label (one word per concept), and "paused" to none of them', () => {
    const labels = ERROR_CODES.map((c) => ERROR_VOCABULARY[c].label);
    assert.equal(new Set(labels).size, labels.length, labels.join(', '));
    assert.equal(errorLabel('CIRCUIT_OPEN'), 'breaker open');
    // "paused" is what a provider's 429 does to a key; an open breaker is not that.
    for (const label of labels) assert.doesNotMatch(label, /paus/);
    assert.equal(errorLabel('SOMETHING_NEW'), 'something new', 'an unknown code still reads as words');
  });

  it('fixes with MAOF commands the manifest contributes, titled as the button says', () => {
    const contributed = new Map(manifest.contributes.commands.map((c) => [c.command, c]));
    const settings = Object.keys(manifest.contributes.configuration.properties);
    for (const id of ACTION_IDS) {
      const action = ACTIONS[id];
      if (action.command.startsWith('maof.')) {
        const cmd = contributed.get(action.command);
        assert.ok(cmd, `${id}: ${action.command} is contributed`);
        assert.equal(cmd.title, action.label, `${id}: the button and the palette say the same`);
        assert.equal(cmd.category, 'MAOF');
      } else {
        // The only other command: VS Code's settings editor, opened at settings MAOF contributes.
        assert.equal(action.command, 'workbench.action.openSettings', id);
        const query = action.args?.[0] ?? '';
        assert.ok(settings.some((s) => s === query || s.startsWith(`${query}.`)), `${id}: "${query}" finds MAOF settings`);
      }
    }
  });

  it('gives every fix words for a terminal that name no editor command, and the chat may ask for each', () => {
    for (const code of ERROR_CODES) {
      const fix = ERROR_VOCABULARY[code].fix;
      if (!fix) continue;
      assert.ok(ACTIONS[fix].cli, `${code}: ${fix} has CLI words`);
      assert.doesNotMatch(ACTIONS[fix].cli ?? '', /MAOF:/);
      assert.ok((CHAT_ACTIONS as readonly string[]).includes(fix), `${code}: the chat protocol accepts ${fix}`);
    }
    assert.equal(errorFix('AUTH'), 'setApiKey');
    assert.equal(errorFix('CIRCUIT_OPEN'), 'resetBreakers');
    assert.equal(errorFix('BUDGET_EXCEEDED'), 'openBudgetSettings');
    assert.equal(errorFix('BUDGET_EXCEEDED', 'state file unreadable (EACCES): spend history unknown'), 'resetSpendHistory', 'an unreadable ledger is fixed there, not in the limits');
    assert.equal(errorFix('RATE_LIMITED'), undefined, 'MAOF waits on its own: no button');
  });

  it('knows every "run \\"MAOF: …\\"" a message names (core and host), and the CLI rewrites each one', () => {
    const named = new Set<string>();
    for (const file of [...sources(join(root, 'src', 'core')), ...sources(join(root, 'src', 'host'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/run "MAOF: ([^"]+)"/g)) named.add(m[1]);
    }
    assert.ok(named.size >= 2, [...named].join(', '));
    for (const title of named) {
      const id = ACTION_IDS.find((a) => ACTIONS[a].label === title);
      assert.ok(id, `"${title}" is a vocabulary action`);
      const phrase = paletteFix(id);
      assert.equal(phrase, `run "MAOF: ${title}"`);
      assert.equal(cliMessage(`Something failed — ${phrase}.`), `Something failed — ${ACTIONS[id].cli}.`);
    }
  });

  it('words every wait reason, each for the error it spares', () => {
    for (const reason of WAIT_REASONS) {
      const w = WAIT_VOCABULARY[reason];
      assert.match(w.forWhat, /^for /, reason);
      assert.ok(ERROR_CODES.includes(w.code), reason);
    }
    assert.doesNotMatch(WAIT_VOCABULARY.breaker.forWhat, /paus/, 'an open breaker is not a pause');
  });
});
