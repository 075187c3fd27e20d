/**
 * Browser harness for the console specs: playwright-core driving Debian's Chromium (`apt-get install
 * chromium`; scripts/ensure-services.sh installs it). Playwright cannot download a browser here.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type PageScreenshotOptions } from 'playwright-core';
import { repoRoot } from './harness';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CONSOLE_DIR = path.join(repoRoot, 'apps/console/dist');
export const SCREENSHOT_DIR = path.join(repoRoot, 'e2e/screenshots');

/** Flags for a headless Chromium in a container without GPU or network access (ENVIRONMENT.md). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Generous: the machine is shared and slow; waits end as soon as the condition holds. */
export const UI_TIMEOUT_MS = 30_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export async function newPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: DESKTOP, reducedMotion: 'reduce' });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const page = await context.newPage();
  // Deletions and revocations ask for confirmation; the specs mean yes.
  page.on('dialog', (dialog) => void dialog.accept());
  return { context, page };
}

/**
 * Saves `<name>-desktop.tmp.png` and `<name>-phone.tmp.png` of the page as it is now, then restores the
 * viewport. `.tmp.png` files are ignored by git, so test runs never churn the committed `<name>-*.png`
 * (refresh those by copying a run's images over them once they look right).
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Secrets (a new API key) never end up in a committed image.
  const options: PageScreenshotOptions = { fullPage: true, animations: 'disabled', caret: 'hide', mask: [page.locator('.secret__value')], maskColor: '#d0d5dd' };
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-desktop.tmp.png`), ...options });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-phone.tmp.png`), ...options });
  await page.setViewportSize(DESKTOP);
}

export async function signInThroughForm(page: Page, tenant: string, email: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Workspace').fill(tenant);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

/** Polls `check` until it returns true (for conditions no single locator expresses); fails with `what`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}
