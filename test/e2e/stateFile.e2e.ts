// Spend history is never erased, as a user meets it: the user's one ledger database (issue 19) is
// damaged, the window is reloaded, MAOF warns once naming the file and the fix, and
// MAOF: Reset Spend History asks first, then moves the database aside and says where it went.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { e2eIt, readNotifications, runCommand, screenshot, session, waitForWorkbench } from './driver';

const GARBAGE = '{"maof.ledger.v1": {"v": 1, "month": "20'.repeat(100);

/** The run's ledger directory: scripts/editor.ts gives code-server XDG_STATE_HOME=<run>/xdg/state. */
function ledgerDir(): string {
  return path.join(session().runDir, 'xdg', 'state', 'maof');
}

async function waitForNotification(page: Page, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const hit = (await readNotifications(page)).find((t) => pattern.test(t));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no notification matching ${String(pattern)}`);
    await page.waitForTimeout(500);
  }
}

describe('a damaged state file in the real workbench', function () {
  this.timeout(180_000);

  e2eIt('MAOF warns once with the fix; Reset Spend History asks, moves the file aside and says where', async (page) => {
    const dir = ledgerDir();
    const file = path.join(dir, 'maof.db');
    // Earlier tests' spend may still be waiting for its throttled save, which the extension host
    // writes when it shuts down: reload once so that nothing is pending, then damage the file.
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForLoadState('domcontentloaded');
    await waitForWorkbench(page);
    await page.locator('.statusbar-item', { hasText: /MAOF \$/ }).first().waitFor({ timeout: 60_000 });
    // The running extension host still holds the old database open: unlink it (its writes go to the
    // unlinked file) and put the garbage in its place, as a disk error would leave it.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    fs.writeFileSync(file, GARBAGE);

    await runCommand(page, 'Developer: Reload Window');
    await page.waitForLoadState('domcontentloaded');
    await waitForWorkbench(page);
    const warning = await waitForNotification(page, /damaged/);
    assert.ok(warning.includes('maof.db'), warning);
    assert.match(warning, /reload the window, or run "MAOF: Reset Spend History" to start from \$0/);
    assert.doesNotMatch(warning, /^MAOF: MAOF/);
    assert.equal(fs.readFileSync(file, 'utf8'), GARBAGE, 'the damaged file is left as it is');
    await runCommand(page, 'Notifications: Show Notifications');
    await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(page, 'state-01-damaged-file-warning');
    await runCommand(page, 'Notifications: Hide Notifications');

    await runCommand(page, 'MAOF: Reset Spend History');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await dialog.innerText(), /Start the spend history from \$0\?/);
    await screenshot(page, 'state-02-reset-confirm');
    await dialog.getByRole('button', { name: 'Reset' }).click({ timeout: 10_000 });

    const done = await waitForNotification(page, /spend history started afresh/);
    const moved = fs.readdirSync(dir).find((f) => /^maof\.db\.corrupt-\d+$/.test(f));
    assert.ok(moved, 'moved aside');
    assert.ok(done.includes(moved), `says where: ${done}`);
    assert.equal(fs.readFileSync(path.join(dir, moved), 'utf8'), GARBAGE, 'the old bytes are kept');
    assert.equal(fs.readFileSync(file).subarray(0, 15).toString('latin1'), 'SQLite format 3', 'a fresh ledger database');
  });
});
