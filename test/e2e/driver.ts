// Helpers for the end-to-end tests: drive the real workbench (code-server + Chromium, smoke-test
// driver on) through the selectors of the editor's own UI. scripts/test-e2e.ts sets the session.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

export interface E2eSession {
  page: Page;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** The workspace folder the workbench has open (a throwaway copy). */
  workspace: string;
  /** The run folder under .test-runs/ (code-server log, user data). */
  runDir: string;
}

export const artifactsDir = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e');

// On globalThis so the runner and the test files share it even if a module loads twice.
const sessionKey = Symbol.for('maof.e2e.session');
type SessionHolder = { [sessionKey]?: E2eSession };

export function setSession(s: E2eSession | undefined): void {
  (globalThis as SessionHolder)[sessionKey] = s;
}

export function session(): E2eSession {
  const s = (globalThis as SessionHolder)[sessionKey];
  if (!s) throw new Error('no e2e session: run the e2e tests with `npm run test:e2e`');
  return s;
}

/** A mocha test that receives the workbench page (and mocha's context, e.g. for `ctx.skip()`). */
export function e2eIt(title: string, fn: (page: Page, ctx: Mocha.Context) => Promise<void>): Mocha.Test {
  return it(title, async function (this: Mocha.Context) {
    await fn(session().page, this);
  });
}

interface SmokeDriver {
  whenWorkbenchRestored(): Promise<void>;
}

/** Waits until the workbench is rendered and its restore phase (extensions, views) is done. */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.waitForFunction(() => typeof (window as { driver?: unknown }).driver === 'object', undefined, { timeout: timeoutMs });
  await page.evaluate(() => (window as unknown as { driver: SmokeDriver }).driver.whenWorkbenchRestored());
}

const quickInput = '.quick-input-widget';
const quickInputBox = `${quickInput} input.input`;
const quickInputRows = '.quick-input-list .monaco-list-row';

async function rowLabels(page: Page): Promise<string[]> {
  const labels = await page.locator(`${quickInputRows} .label-name`).allInnerTexts();
  return labels.map((l) => l.replace(/\s+/g, ' ').trim());
}

async function typeInPalette(page: Page, text: string): Promise<string[]> {
  if (await page.locator(quickInput).isVisible()) await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator(quickInputBox);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${text}`);
  // The list filters asynchronously; wait until it shows rows or "No matching commands".
  await page.waitForFunction(
    ({ rows, widget }) => {
      const w = document.querySelector(widget);
      return !!w && (document.querySelectorAll(rows).length > 0 || /no matching/i.test(w.textContent ?? ''));
    },
    { rows: quickInputRows, widget: quickInput },
    { timeout: 10_000 },
  );
  await page.waitForTimeout(250);
  return rowLabels(page);
}

/**
 * Opens the command palette, types `text` (the `>` is added) and returns the rows' labels, leaving
 * the palette open. With `until`, it reopens the palette (which lists commands as of opening)
 * until `until(labels)` holds or `timeoutMs` passes: an installed extension's commands appear a
 * few seconds after the workbench is restored.
 */
export async function openCommandPalette(
  page: Page,
  text: string,
  opts: { until?: (labels: string[]) => boolean; timeoutMs?: number } = {},
): Promise<string[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const labels = await typeInPalette(page, text);
    if (!opts.until || opts.until(labels) || Date.now() > deadline) return labels;
    await page.waitForTimeout(500);
  }
}

/** Runs a command by its palette title, e.g. `MAOF: Open Chat`; fails when no row has that title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  // The palette closes when something else takes the focus while it is open: then open it again.
  for (let attempt = 1; ; attempt++) {
    const labels = await openCommandPalette(page, title, { until: (l) => l.includes(title) });
    const index = labels.indexOf(title);
    if (index < 0) {
      await page.keyboard.press('Escape');
      throw new Error(`command "${title}" is not in the palette; rows: ${JSON.stringify(labels)}`);
    }
    try {
      await page.locator(quickInputRows).nth(index).click({ timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  await page.locator(quickInput).waitFor({ state: 'hidden', timeout: 10_000 });
}

/**
 * Messages of the notifications. With the smoke-test driver on, toasts are hidden, so this opens the
 * notification center, reads it and hides it again.
 */
export async function readNotifications(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: 10_000 });
  const items = center.locator('.notification-list-item');
  const texts = (await items.count()) > 0 ? await items.locator('.notification-list-item-message').allInnerTexts() : [];
  await runCommand(page, 'Notifications: Hide Notifications').catch(() => page.keyboard.press('Escape'));
  return texts.map((t) => t.trim());
}

/**
 * The DOM inside a webview (chat view, dashboard): VS Code nests the extension's page in an
 * `iframe#active-frame` inside the `iframe.webview.ready` host frame. `index` picks among several.
 */
export function webviewFrame(page: Page, index = 0): FrameLocator {
  return page.locator('iframe.webview.ready').nth(index).contentFrame().locator('iframe#active-frame').contentFrame();
}

/** Saves a PNG of the page to test-artifacts/e2e/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Text of a locator with whitespace collapsed, for assertions. */
export async function textOf(l: Locator): Promise<string> {
  return (await l.innerText()).replace(/\s+/g, ' ').trim();
}
