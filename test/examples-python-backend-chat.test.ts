/**
 * The chat UI signed in by examples/python-backend, in Chromium: the chat
 * built with `--mode python` (examples/chat/.env.python, with
 * VITE_BACKEND_URL pointed at the backend's free port) and served by
 * `syncline start --config examples/python-backend/chat.config.ts`, as
 * `npm run start:python` does. A wrong password shows the backend's message;
 * the right one opens the chat; sign-out ends the session at the backend and
 * the user's presence.left reaches its last_seen table.
 *
 * Skipped without python3 or Chromium, unless SYNCLINE_REQUIRE_SERVICES=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHAT, CHROMIUM, hasChromium, launchBrowser } from '../examples/chat/e2e/harness.js';
import { freePort } from './helpers.js';
import { Children, childEnv, EXAMPLE, hasPython, sdk } from './python-backend/processes.js';

const required = process.env.SYNCLINE_REQUIRE_SERVICES === '1';
if (required && !hasChromium()) {
  throw new Error(`Chromium is required (SYNCLINE_REQUIRE_SERVICES=1) but ${CHROMIUM} is missing.`);
}

const UI_TIMEOUT_MS = 15_000;
const children = new Children();
let dir = '';
let url = '';
let browser: Browser | undefined;

describe.skipIf(!hasPython || !hasChromium())('the chat signed in by examples/python-backend (Chromium)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'syncline-python-chat-'));
    // The page's origin must be known to the backend (CORS of /login) before Syncline starts.
    const port = await freePort();
    const backendUrl = await children.backend(
      join(dir, 'backend.sqlite3'),
      childEnv({ ALLOWED_ORIGINS: `http://127.0.0.1:${port}` }),
    );
    // Variables of the environment win over .env.python: the build points at this backend.
    execFileSync(
      'npx',
      ['vite', 'build', '--mode', 'python', '--outDir', join(dir, 'chat'), '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: CHAT, env: { ...process.env, VITE_BACKEND_URL: backendUrl }, stdio: 'inherit' },
    );
    url = await children.syncline(
      [
        '--dev',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--data',
        join(dir, 'syncline'),
        '--config',
        join(EXAMPLE, 'chat.config.ts'),
        '--static',
        join(dir, 'chat'),
      ],
      childEnv({ PYTHON_BACKEND_URL: backendUrl }),
    );
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password with the backend message, opens the chat with the right one, and signs out', async () => {
    const page = await (browser as Browser).newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(url);
    await page.locator('#name').fill('ada');
    await page.locator('#password').fill('wrong password');
    await page.locator('button[type=submit]').click();
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toBe('Wrong user name or password.');

    await page.locator('#password').fill('lovelace');
    await page.locator('button[type=submit]').click();
    await page.getByTestId('composer').fill('hello from the Python backend');
    await page.getByTestId('composer').press('Enter');
    await expect
      .poll(() => page.getByTestId('message-text').allTextContents(), { timeout: UI_TIMEOUT_MS })
      .toEqual(['hello from the Python backend']);
    await page.screenshot({ path: join(ARTIFACTS, 'python-backend.png') });
    const kept = await page.evaluate(() => sessionStorage.getItem('syncline-chat.session'));
    const { session } = JSON.parse(kept ?? '{}') as { session?: string };
    expect(session, 'the tab keeps the backend session, not a token').toMatch(/^[\w-]{40,}$/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#password').waitFor();
    // The session was ended at the backend (POST /logout): it no longer connects.
    const old = sdk(url, { session });
    const errors: string[] = [];
    old.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    await expect
      .poll(() => errors, { timeout: UI_TIMEOUT_MS })
      .toEqual(['unauthorized: Your session has ended; sign in again.']);
    // Leaving online:everyone (after the disconnect's grace period) reached the backend as a webhook.
    const grace = sdk(url, { user: 'grace', password: 'hopper' });
    await expect
      .poll(async () => ((await grace.rpc('lastSeen', { user: 'ada' })) as { channel: string | null }).channel, {
        timeout: UI_TIMEOUT_MS,
        interval: 200,
      })
      .toBe('online:everyone');
  });
});
