/**
 * The operator console in a real browser (the machine's Chromium): sign-in
 * (a wrong key refused), the overview with this node and its charts (delivery
 * latency under its precise title, with a measured total), a connection count
 * that changes live when a client connects (no reload), keyboard
 * navigation, sign-out, the sign-in rate limit, and no CSP violation.
 * Takes the screenshots docs/admin.png (1280×800) and docs/admin-narrow.png
 * when SYNCLINE_SCREENSHOTS=1, else into a temporary folder (a test run
 * leaves the checkout unchanged).
 */
import { join } from 'node:path';
import type { SynclineServer } from '@syncline/server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../examples/chat/e2e/harness.js';
import { ensureConsoleBuilt, poll, RUN_BROWSER, SHOTS, textOf, UI_TIMEOUT_MS } from './admin-browser.js';
import { ADMIN_KEY } from './admin-helpers.js';
import { client, startServer, waitState } from './helpers.js';

describe.runIf(RUN_BROWSER)('operator console in Chromium', () => {
  let browser: Browser;
  let server: SynclineServer;
  const cspErrors: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, shows the node live, navigates by keyboard, signs out; screenshots at 1280×800 and 400 px', async () => {
    server = await startServer({ admin: { key: ADMIN_KEY }, nodeId: 'node-a' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${server.url}/admin`);

    // A wrong key is refused, the right one signs in.
    const key = page.getByLabel('Admin key');
    await key.fill('not-the-admin-key');
    await key.press('Enter');
    await poll(() => page.getByRole('alert').innerText()).toBe('Wrong admin key.');
    await key.fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The overview shows this node, ready, with the console's own connection.
    const row = page.locator('tr[data-node="node-a"]');
    await row.waitFor();
    await poll(() => row.innerText()).toMatch(/node-a\s+ready/);
    await poll(() => textOf(page, 'live-state')).toBe('Live');
    await poll(() => textOf(page, 'total-connections')).toBe('1');

    // A client connects: the count follows without a reload.
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    const sub = c.subscribe('chat:lobby');
    await sub.ready;
    await poll(() => textOf(page, 'total-connections')).toBe('2');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // An error sent to a client shows up by its code.
    await c.subscribe('syncline-admin:overview').ready.catch(() => undefined);
    await poll(() => page.locator('table.errors').innerText()).toMatch(/forbidden\s+1/);

    // Some traffic for the charts, then the screenshots.
    for (let i = 0; i < 30; i++) await c.publish('chat:lobby', { text: `message ${i}` });
    await poll(() => page.locator('.chart canvas').count()).toBe(8);
    // Delivery latency is charted under its own precise title; the broker's publish time beside it.
    const captions = await page.locator('.chart figcaption').allInnerTexts();
    expect(captions.map((t) => t.split('\n')[0])).toEqual([
      'Connections (open)',
      'Publications (/s)',
      'Deliveries (/s)',
      'Mutations (/s)',
      'p99 delivery latency (ms)',
      'p99 broker publish time (ms)',
      'Event-loop delay p99 (ms)',
      'Errors sent to clients (/s)',
    ]);
    const delivery = page.locator('figure.chart', { hasText: 'p99 delivery latency' });
    expect(await delivery.locator('.note').innerText()).toBe(
      'Arrival on the node → subscribers’ socket writes, sampled',
    );
    expect(await delivery.getByRole('img').getAttribute('aria-label')).toBe(
      'p99 delivery latency over time, one line per node',
    );
    // The total is a measured value (the publications above, and the console's own snapshots).
    await poll(() => textOf(page, 'total-delivery-p99')).toMatch(/^\d+(\.\d+)? ms$/);
    await page.screenshot({ path: join(SHOTS, 'admin.png') });
    await page.setViewportSize({ width: 400, height: 800 });
    await poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    await page.screenshot({ path: join(SHOTS, 'admin-narrow.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Keyboard, from a fresh load: the skip link first, then the navigation; Enter opens a page.
    await page.goto(`${server.url}/admin/overview`);
    await page.locator('tr[data-node="node-a"]').waitFor();
    await page.keyboard.press('Tab');
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Overview');
    await page.keyboard.press('Tab');
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Channels');
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Channels');
    expect(new URL(page.url()).pathname).toBe('/admin/channels');
    await poll(() => page.locator('tr[data-channel="chat:lobby"]').innerText()).toMatch(/chat:lobby\s+1/);

    // Sign out: back to the form; the session is gone.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    const after = await page.evaluate(async () => (await fetch('/admin/api/session')).status);
    expect(after).toBe(401);

    // Wrong keys from this address: 429 after 5 failures (one was typed above), and the form says so.
    const statuses = await page.evaluate(async () => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch('/admin/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: `wrong-${i}` }),
        });
        out.push(r.status);
      }
      return out;
    });
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByLabel('Admin key').press('Enter');
    await expect
      .poll(() => page.getByRole('alert').innerText())
      .toMatch(/^Too many failed attempts; try again in \d+ s\.$/);
    expect(cspErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
