import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.SPILLWAY_CHROMIUM ?? '/usr/bin/chromium';
// The flags of DEVELOPERS.md: headless, no sandbox (containers), and nothing that reaches the network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A page in Debian's Chromium with a fresh profile, closed after the test; console errors collected. Undefined when skipped. */
export async function openBrowserPage(
  t: TestContext,
): Promise<{ page: Page; consoleErrors: string[]; context: BrowserContext } | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`CI is set but Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
    t.skip(`Chromium not installed at ${CHROMIUM}`);
    return undefined;
  }
  const profile = mkdtempSync(join(tmpdir(), 'spillway-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return { page, consoleErrors, context };
}

/**
 * With SPILLWAY_DASHBOARD_SCREENSHOTS=<dir> (docs/ for the README's pictures), save the page as
 * <dir>/<name>; otherwise nothing. The tests stage the states worth showing anyway.
 */
export async function screenshotIfAsked(page: Page, name: string): Promise<void> {
  const dir = process.env.SPILLWAY_DASHBOARD_SCREENSHOTS;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: true });
}
