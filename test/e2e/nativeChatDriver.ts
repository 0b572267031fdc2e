// Driving VS Code's own Chat view in the e2e tests: ask a question, and wait for the end of an
// answer (not its first section) before asserting on it.
import type { Page } from 'playwright-core';
import { runCommand, textOf } from './driver';

export const chatList = '.interactive-session .interactive-list';

/** Types `text` into the Chat's input and sends it; `beforeSend` runs just before Enter (to time the answer from the send). */
export async function askNativeChat(page: Page, text: string, beforeSend?: () => void): Promise<void> {
  await runCommand(page, 'Chat: Focus on Chat View');
  const input = page.locator('.interactive-session .interactive-input-part .monaco-editor textarea, .interactive-session .chat-editor-container .monaco-editor textarea').first();
  await input.waitFor({ state: 'attached', timeout: 20_000 });
  await page.keyboard.type(text, { delay: 2 });
  beforeSend?.();
  await page.keyboard.press('Enter');
}

/** Waits until the Chat first shows `pattern` (not the end of the answer: see waitForChatAnswer). */
export async function waitForChatText(page: Page, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await chatText(page);
    if (pattern.test(last)) return last;
    await page.waitForTimeout(300);
  }
  throw new Error(`the Chat never showed ${String(pattern)}; it shows: "${last.slice(-600)}"`);
}

/** A new, empty chat in the Chat view (its "New Chat" button; Ctrl+L where it is not shown). */
export async function newNativeChat(page: Page): Promise<void> {
  await runCommand(page, 'Chat: Focus on Chat View');
  const button = page.locator('.part.auxiliarybar .title-actions [aria-label^="New Chat"], .part.sidebar .title-actions [aria-label^="New Chat"]').first();
  if (await button.isVisible().catch(() => false)) await button.click();
  else await page.keyboard.press('Control+L');
  await page.waitForTimeout(500);
}

/** The title of the chat the Chat view shows (its header; VS Code's utility model writes it). */
export async function nativeChatTitle(page: Page): Promise<string> {
  return textOf(page.locator('.chat-view-title-label').first()).catch(() => '');
}

async function chatText(page: Page): Promise<string> {
  return textOf(page.locator(chatList).first()).catch(() => '');
}

/**
 * Waits until the Chat shows `pattern` AND the answer has ended: no response is still loading
 * (VS Code marks its row `chat-response-loading` until the answer is complete) and the text has
 * not changed for `quietMs` (an answer streams in sections — `/diagnose`'s Budget comes before its
 * Connectivity, a tool round trip before the final words). Returns the whole text at that moment.
 */
export async function waitForChatAnswer(page: Page, pattern: RegExp, timeoutMs = 60_000, opts: { quietMs?: number; waitingForUser?: boolean } = {}): Promise<string> {
  const quietMs = opts.quietMs ?? 2_000;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = await chatText(page);
    // An answer that waits for the user (a tool's confirmation) is still loading: then only the text counts.
    const loading = opts.waitingForUser ? 0 : await page.locator('.interactive-session .chat-response-loading').count();
    if (now !== last || loading > 0) {
      last = now;
      since = Date.now();
    } else if (pattern.test(now) && Date.now() - since >= quietMs) {
      return now;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`the Chat never showed a finished answer matching ${String(pattern)}; it shows: "${last.slice(-600)}"`);
}
