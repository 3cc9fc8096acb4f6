// Headless Chromium for the dashboard tests: Debian's `chromium` package driven by playwright-core (no
// browser download). The flags keep it off the network this machine does not have (background
// networking, component updates, sync, QUIC) and let it run as root (no sandbox).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of every run (git-ignored); `UPDATE_SCREENSHOTS=1` also writes the README's set in docs/screenshots. */
export const SCREENSHOT_DIR = path.resolve('test-output/screenshots');
const DOCS_DIR = path.resolve('docs/screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (scripts/bootstrap.sh test does) or set CHROMIUM_PATH`);
  // Playwright gives each launch a fresh, empty profile (its own --user-data-dir) and adds --headless.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_DIR, { recursive: true });
    await page.screenshot({ path: path.join(DOCS_DIR, `${name}.png`), fullPage: true });
  }
}
