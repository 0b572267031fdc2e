// Spend history is never erased, in the real extension host: a damaged ledger database brings one
// warning with the fix, a paid request under a budget is refused with "Reset Spend History" on
// offer, and the command moves the database aside after asking and says where it went.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseConfig } from '../../src/core/config/schema';
import { Orchestrator } from '../../src/core/orchestrator';
import { SqliteStore } from '../../src/core/persistence/sqliteStore';
import { silentLogger } from '../../src/core/ports';
import { createErrorPresenter } from '../../src/host/platform/errors';
import { resetSpendHistory, warnStateProblem } from '../../src/host/dashboard/spendHistory';
import { captureMessages, maofApi } from './helpers';
import { userTurn } from '../../src/core/types';
import { COMMANDS } from '../../src/host/platform/ids';

describe('an unreadable spend history in the editor', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maof-spend-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('warns once with the fix, refuses paid requests offering the reset, and the reset keeps the old file', async () => {
    const file = path.join(dir, 'maof.db');
    const garbage = '{"maof.ledger.v1": {"v": 1, "byDay": {"20'.repeat(100);
    fs.writeFileSync(file, garbage);
    const store = new SqliteStore(file, silentLogger, { resetHint: 'run "MAOF: Reset Spend History"' });
    assert.equal(store.problem?.kind, 'corrupt');

    const warnings = captureMessages('showWarningMessage', (_m, items) => (items.includes('Reset') ? 'Reset' : undefined));
    const errors = captureMessages('showErrorMessage');
    const infos = captureMessages('showInformationMessage');
    try {
      warnStateProblem(store.problem, () => undefined);
      assert.equal(warnings.messages.length, 1);
      assert.ok(warnings.messages[0].message.includes(file), 'names the file');
      assert.match(warnings.messages[0].message, /integrity check.*run "MAOF: Reset Spend History" to start from \$0/);
      assert.deepEqual(warnings.messages[0].items, ['Reset Spend History', 'Show Log']);

      // A paid request under a budget: refused before anything is sent, with the reset offered.
      const config = parseConfig({ budget: { monthlyUsd: 5 }, routes: { code: ['gpt-4.1'] } }).config;
      const orchestrator = new Orchestrator({ config, secrets: { get: () => Promise.resolve('sk-test-unused-0000000000') }, store });
      const refused = await orchestrator.run({ messages: [userTurn('hello')], agentId: 'gpt-4.1' });
      assert.equal(refused.ok ? '' : refused.error.code, 'BUDGET_EXCEEDED');
      // The host's presenter from this bundle: the extension's own copy would not know this bundle's MaofError class.
      await createErrorPresenter({ logger: silentLogger, showLog: () => undefined, knownSecrets: () => [] })(refused.ok ? undefined : refused.error);
      assert.equal(errors.messages.length, 1);
      assert.match(errors.messages[0].message, /damaged/);
      assert.deepEqual(errors.messages[0].items, ['Reset Spend History', 'Show Log']);

      assert.equal(await resetSpendHistory(store), true);
      const moved = fs.readdirSync(dir).find((f) => /^maof\.db\.corrupt-\d+$/.test(f));
      assert.ok(moved, 'moved aside');
      assert.equal(fs.readFileSync(path.join(dir, moved), 'utf8'), garbage, 'the old bytes are kept');
      assert.ok(infos.messages.some((m) => m.message.includes(path.join(dir, moved))), 'says where it went');
      assert.equal(store.problem, undefined);
      await orchestrator.flush();
      store.close();
      assert.equal(fs.readFileSync(file).subarray(0, 15).toString('latin1'), 'SQLite format 3', 'a fresh, valid ledger database');
    } finally {
      warnings.restore();
      errors.restore();
      infos.restore();
    }
  });

  it('the real command says there is nothing to reset when the state file is fine', async () => {
    await maofApi();
    const infos = captureMessages('showInformationMessage');
    try {
      assert.equal(await vscode.commands.executeCommand(COMMANDS.resetSpendHistory), false);
      assert.match(infos.messages[0]?.message ?? '', /nothing to reset/);
    } finally {
      infos.restore();
    }
  });
});
