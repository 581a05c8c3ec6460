import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { hasChromium, ROOT } from '../examples/chat/e2e/harness.js';
import { ADMIN_KEY } from './admin-helpers.js';

/** Whether the browser suites run: with SYNCLINE_REQUIRE_SERVICES=1 (CI) a missing Chromium fails instead of skipping. */
export const RUN_BROWSER = hasChromium() || process.env.SYNCLINE_REQUIRE_SERVICES === '1';
/** Longest wait for the page to show something, ms. */
export const UI_TIMEOUT_MS = 15_000;
/** Where screenshots go: docs/ when SYNCLINE_SCREENSHOTS=1, else a temporary folder (a test run leaves the checkout unchanged). */
export const SHOTS =
  process.env.SYNCLINE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'admin-shots-'));

/** Builds the console when the server package has no build of it (`npm test` makes one first). */
export function ensureConsoleBuilt(): void {
  if (!existsSync(join(ROOT, 'packages/server/admin-dist/index.html'))) {
    execFileSync('npm', ['run', 'build', '-w', '@syncline/admin'], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** Polls a value in the page until it matches, up to the UI timeout. */
export function poll<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: UI_TIMEOUT_MS, interval: 100 });
}

/** The text of a test id, trimmed. */
export function textOf(page: Page, testId: string): Promise<string> {
  return page.getByTestId(testId).first().innerText();
}

/** Opens the console at `url` and signs in with the test key. */
export async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/admin`);
  await page.getByLabel('Admin key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Marks the page, to check later that it was not reloaded. */
export async function markNotReloaded(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });
}

/** True when the page kept the mark of `markNotReloaded`. */
export function notReloaded(page: Page): Promise<boolean | undefined> {
  return page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded);
}
