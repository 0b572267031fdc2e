// The Getting Started walkthrough as a new user meets it: Welcome: Open Walkthrough… lists MAOF's,
// its five steps show, and a step is checked once the user has done it — "Connect a model" when an
// agent that needs no key was configured before the walkthrough was first opened, "Open the
// dashboard" after its button was clicked.
import * as assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { e2eIt, openCommandPalette, runCommand, screenshot, session, textOf } from './driver';
import { findWebview, simulatorSuite } from './simulatorSetup';

const STEP_TITLES = ['Connect a model', 'Generate code inline', 'Ask the chat', 'Open the dashboard', 'Use MAOF in VS Code\'s Chat'];

async function pickWalkthrough(page: Page): Promise<void> {
  const labels = await openCommandPalette(page, 'Welcome: Open Walkthrough', { until: (l) => l.some((x) => x.startsWith('Welcome: Open Walkthrough')) });
  const index = labels.findIndex((x) => x.startsWith('Welcome: Open Walkthrough'));
  assert.ok(index >= 0, `no "Welcome: Open Walkthrough" in the palette: ${JSON.stringify(labels)}`);
  await page.locator('.quick-input-list .monaco-list-row').nth(index).click({ timeout: 5_000 });
  // The next quick pick lists the walkthroughs of the installed extensions.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with MAOF' }).waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.quick-input-widget input.input').fill('Get started with MAOF');
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Opens MAOF's walkthrough as a user does: Welcome: Open Walkthrough…, then its name. */
async function openWalkthrough(page: Page): Promise<void> {
  // The palette can lose the focus to the Welcome page while it renders: then try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await pickWalkthrough(page);
      break;
    } catch (err) {
      if (attempt === 3) throw err;
      await page.keyboard.press('Escape');
    }
  }
  await page.locator('.gettingStartedContainer', { hasText: 'Get started with MAOF' }).locator('.getting-started-step').first().waitFor({ state: 'visible', timeout: 15_000 });
}

function step(page: Page, id: string): Locator {
  return page.locator(`.gettingStartedContainer button.getting-started-step[data-step-id$="#${id}"]`);
}

async function waitChecked(page: Page, id: string, timeoutMs = 15_000): Promise<void> {
  await step(page, id).and(page.locator('[aria-checked="true"]')).waitFor({ state: 'attached', timeout: timeoutMs });
}

describe('Getting Started walkthrough', function () {
  this.timeout(120_000);
  // Before the walkthrough is ever opened: an agent that needs no key (sim-gpt, an
  // OpenAI-compatible server on loopback). VS Code's walkthrough service is not running yet.
  simulatorSuite({}, { afterRestore: () => runCommand(session().page, 'View: Close All Editors') });


  e2eIt('opens from Welcome: Open Walkthrough… with its five steps, "Connect a model" already checked', async (page) => {
    await openWalkthrough(page);
    const titles = await page.locator('.gettingStartedContainer .getting-started-step .step-title').allInnerTexts();
    assert.deepEqual(titles.map((t) => t.trim()), STEP_TITLES);
    assert.match(await textOf(page.locator('.gettingStartedContainer')), /Get started with MAOF.*Connect a model, generate code, ask the chat/);
    // Done before the walkthrough was opened: a keyless agent is configured.
    await waitChecked(page, 'connect');
    // The step's markdown (media/walkthrough/*.md, from the VSIX) shows beside the steps.
    await step(page, 'connect').click();
    const media = await findWebview(page, 'h1:has-text("Connect a model")', 20_000);
    assert.match(await textOf(media.locator('body')), /A local model\. An OpenAI-compatible server on this machine/);
    await screenshot(page, 'walkthrough-01-steps');
  });

  e2eIt('checks "Open the dashboard" after its button opened the dashboard', async (page) => {
    await openWalkthrough(page);
    // An earlier suite may have opened the dashboard already: uncheck the step first, as a user can.
    if ((await step(page, 'dashboard').getAttribute('aria-checked')) === 'true') {
      await page.locator('.gettingStartedContainer .codicon[data-done-step-id$="#dashboard"]').click();
    }
    await step(page, 'dashboard').and(page.locator('[aria-checked="false"]')).waitFor({ state: 'attached', timeout: 5_000 });
    await step(page, 'dashboard').click();
    const button = page.locator('.gettingStartedContainer .getting-started-step.expanded a, .gettingStartedContainer .getting-started-step.expanded button').filter({ hasText: 'Show Dashboard' });
    await button.first().click();
    await page.locator('.tabs-container .tab', { hasText: 'MAOF Dashboard' }).waitFor({ state: 'visible', timeout: 20_000 });
    // Back to the walkthrough's tab, as a user would.
    await page.locator('.tabs-container .tab', { hasText: 'Welcome' }).click();
    await waitChecked(page, 'dashboard');
    await findWebview(page, 'h1:has-text("Watch spend and resilience")', 20_000);
    await screenshot(page, 'walkthrough-02-dashboard-checked');
  });
});
