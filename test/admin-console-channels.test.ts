/**
 * The console's Channels and Users pages in a real browser (the machine's
 * Chromium) against a real server: a test client subscribes and publishes;
 * the console finds the channel by prefix, reads its history, shows the
 * live tail, refuses invalid JSON without sending it, publishes JSON the
 * client receives, and closes the client's connection from the user page
 * (the client sees close code 4010), sends the user a message the client
 * receives, revokes the user (4011; the page shows since when and only
 * then offers the lift) and lifts it (the client connects again with its
 * old token). History
 * pages back with `before`; presence members are listed. Deep links and the
 * back button work (the search is kept in the URL); the pages fit 400 px.
 * Takes docs/admin-channel.png and docs/admin-user.png (its confirm step)
 * when SYNCLINE_SCREENSHOTS=1, else into a temporary folder.
 */
import { join } from 'node:path';
import { CLOSE_CODES } from '@syncline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../examples/chat/e2e/harness.js';
import { ensureConsoleBuilt, poll, RUN_BROWSER, SHOTS, UI_TIMEOUT_MS } from './admin-browser.js';
import { ADMIN_KEY } from './admin-helpers.js';
import { client, waitState } from './helpers.js';
import { api, apiServer } from './http-api-helpers.js';

function heading(page: Page): Promise<string> {
  return page.getByRole('heading', { level: 1 }).innerText();
}

describe.runIf(RUN_BROWSER)('operator console: channels and users in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('finds a channel, reads its history, tails it, publishes JSON; disconnects a user’s connection', async () => {
    const server = await apiServer({ admin: { key: ADMIN_KEY }, nodeId: 'node-a' });
    const tag = Math.random().toString(36).slice(2, 8);
    const channel = `chat:console-${tag}`;
    const user = `tester-${tag}`;

    // A test client subscribes and publishes.
    const sdk = await client(server, user);
    const closeCodes: (number | string | undefined)[] = [];
    const states: string[] = [];
    sdk.on('state', (s) => {
      states.push(s.state);
      if (s.state !== 'connected' && s.previous === 'connected') closeCodes.push(s.code);
    });
    await waitState(sdk, 'connected');
    const received: unknown[] = [];
    await sdk.subscribe(channel, { onPublication: (p) => received.push(p.data) }).ready;
    await sdk.publish(channel, { text: 'from the sdk' });
    await poll(() => received).toEqual([{ text: 'from the sdk' }]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Channels: search by prefix (server side), one row with the client counted.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Channels' }).click();
    await poll(() => heading(page)).toBe('Channels');
    await page.getByLabel('Name starts with').fill(`chat:console-${tag}`);
    const row = page.locator(`tr[data-channel="${channel}"]`);
    await poll(() => row.innerText()).toMatch(new RegExp(`${channel}\\s+1\\s+0`));
    await poll(() => page.locator('table[data-testid="channels-table"] tbody tr').count()).toBe(1);

    // The channel page: position, namespace options, the publication in history, the tail live.
    await row.getByRole('link', { name: channel }).click();
    await poll(() => heading(page)).toBe(channel);
    expect(new URL(page.url()).pathname).toBe(`/admin/channels/${encodeURIComponent(channel)}`);
    await poll(() => page.getByLabel('Stream and counts').innerText()).toMatch(/Offset \(newest\)\s+1/);
    await poll(() => page.getByLabel('Namespace options').innerText()).toMatch(/Namespace\s+chat/);
    await poll(() => page.getByTestId('history').innerText()).toContain('"text": "from the sdk"');
    await poll(() => page.getByTestId('tail-state').innerText()).toBe('subscribed');

    // Invalid JSON: an inline error and nothing sent.
    const data = page.getByLabel('Data (JSON)');
    await data.fill('{"hello":');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await poll(() => page.getByTestId('publish-error').innerText()).toMatch(/^Not valid JSON/);
    expect(await data.getAttribute('aria-invalid')).toBe('true');
    expect((await api(server, 'GET', `/v1/channels/${encodeURIComponent(channel)}`)).body.offset).toBe(1);
    expect(received).toHaveLength(1);

    // Valid JSON: published through the API; the client and the tail get it; history shows it.
    await data.fill('{"hello":"console"}');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await poll(() => page.getByTestId('publish-outcome').innerText()).toBe('Published at offset 2.');
    await poll(() => received).toEqual([{ text: 'from the sdk' }, { hello: 'console' }]);
    await poll(() => page.getByTestId('tail').innerText()).toContain('"hello": "console"');
    await poll(() => page.getByTestId('history').locator('li').count()).toBe(2);
    await poll(() => page.getByLabel('Stream and counts').innerText()).toMatch(/Offset \(newest\)\s+2/);
    await page.screenshot({ path: join(SHOTS, 'admin-channel.png'), fullPage: true });
    await page.setViewportSize({ width: 400, height: 800 });
    await poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    await page.setViewportSize({ width: 1280, height: 800 });

    // The back button returns to the list; a deep link opens the channel page on a fresh load.
    await page.goBack();
    await poll(() => heading(page)).toBe('Channels');
    expect(new URL(page.url()).searchParams.get('prefix')).toBe(`chat:console-${tag}`);
    expect(await page.getByLabel('Name starts with').inputValue()).toBe(`chat:console-${tag}`);
    await poll(() => page.locator('table[data-testid="channels-table"] tbody tr').count()).toBe(1);
    await page.goto(`${server.url}/admin/channels/${encodeURIComponent(channel)}`);
    await poll(() => heading(page)).toBe(channel);

    // Users: search the test user, open them, disconnect the connection after confirming.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
    await poll(() => heading(page)).toBe('Users');
    await page.getByLabel('User id starts with').fill(user);
    const userRow = page.locator(`tr[data-user="${user}"]`);
    await poll(() => userRow.innerText()).toMatch(new RegExp(`${user}\\s+1`));
    await userRow.getByRole('link', { name: user }).click();
    await poll(() => heading(page)).toBe(user);
    const conns = page.locator('table[data-testid="connections-table"] tbody tr');
    await poll(() => conns.count()).toBe(1);
    const id = await conns.first().getAttribute('data-connection');
    const connRow = page.locator(`tr[data-connection="${id}"]`);
    await poll(() => connRow.innerText()).toMatch(/node-a\s+websocket\s+json\s+3/);
    expect(await connRow.innerText()).toContain(channel);
    // Not revoked: the page says so and offers no lift.
    const revocation = page.getByTestId('revocation');
    const liftButton = page.getByRole('button', { name: 'Lift revocation' });
    await poll(() => revocation.innerText()).toBe('Not revoked');
    expect(await liftButton.count()).toBe(0);

    await connRow.getByRole('button', { name: 'Disconnect' }).click();
    // The confirm step: nothing happens until "Disconnect" in the question is pressed; Cancel backs out.
    await connRow.getByRole('button', { name: 'Cancel' }).click();
    expect(sdk.state).toBe('connected');
    await connRow.getByRole('button', { name: 'Disconnect' }).click();
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Disconnect');
    await page.screenshot({ path: join(SHOTS, 'admin-user.png') });
    await page.keyboard.press('Enter');
    await poll(() => page.locator(`tr[data-connection="${id}"]`).count()).toBe(0);
    await poll(() => closeCodes).toContain(CLOSE_CODES.FORCE_DISCONNECT.code);

    // The client reconnects as a new connection; revoking the user (confirmed) closes it for good.
    await page.getByRole('button', { name: 'Refresh' }).click();
    await poll(() => conns.count()).toBe(1);
    expect(await conns.first().getAttribute('data-connection')).not.toBe(id);

    // Send a message: invalid JSON is flagged and nothing is sent; the request is shown, then sent on Send.
    const messages: unknown[] = [];
    sdk.on('userMessage', (m) => messages.push(m.data));
    const messageField = page.getByLabel('Data (JSON)');
    await messageField.fill('{"text": "nope"');
    await poll(() => page.getByTestId('message-error').innerText()).toMatch(/^Not valid JSON/);
    expect(await page.getByRole('button', { name: 'Review…' }).isDisabled()).toBe(true);
    await messageField.fill('{"text":"from the console"}');
    await page.getByRole('button', { name: 'Review…' }).click();
    await poll(() => page.getByTestId('confirm-request').innerText()).toBe(
      `POST /v1/users/${user}/messages\n${JSON.stringify({ data: { text: 'from the console' } }, null, 2)}`,
    );
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(messages).toEqual([]);
    await page.getByRole('button', { name: 'Review…' }).click();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await poll(() => page.getByTestId('message-outcome').innerText()).toBe('Sent: delivered to 1 connection.');
    await poll(() => messages).toEqual([{ text: 'from the console' }]);

    await page.getByRole('button', { name: 'Revoke user' }).click();
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await poll(() => page.getByRole('status').first().innerText()).toMatch(/^User revoked: 1 connection/);
    await poll(() => conns.count()).toBe(0);
    // The page shows since when (the time the API answers, in the browser's words) and offers the lift.
    const revokedState = async () => {
      const r = await api(server, 'GET', `/v1/users/${user}/revoke`);
      expect(r.body.revoked).toBe(true);
      const at = await page.evaluate((b) => new Date(b).toLocaleTimeString(), r.body.before as number);
      return `Revoked since ${at}: tokens issued before then are refused.`;
    };
    await poll(() => revocation.innerText()).toBe(await revokedState());
    expect(await liftButton.count()).toBe(1);
    await poll(() => closeCodes).toContain(CLOSE_CODES.REVOKED.code);
    // Revoked, the client's token (issued before) is refused; lifted (confirmed), the same token connects again.
    const triedAt = states.length;
    sdk.connect();
    await poll(() => states.slice(triedAt).join(' ')).toMatch(/^connecting .*(disconnected|closed)$/);
    expect(sdk.state).not.toBe('connected');
    await page.getByRole('button', { name: 'Lift revocation' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Lift revocation' }).click();
    await page.getByRole('button', { name: 'Lift', exact: true }).click();
    await poll(() => page.getByRole('status').first().innerText()).toBe(
      'Revocation lifted: the user may connect again with any valid token.',
    );
    await poll(() => revocation.innerText()).toBe('Not revoked');
    expect(await liftButton.count()).toBe(0);
    sdk.connect();
    await waitState(sdk, 'connected');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await poll(() => conns.count()).toBe(1);
    // Another operator revokes through the API: a refresh shows it. They lift it while this page still
    // offers the lift: lifting then finds nothing to lift, and the page shows the user is not revoked.
    await api(server, 'POST', `/v1/users/${user}/revoke`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await poll(() => revocation.innerText()).toBe(await revokedState());
    expect((await api(server, 'DELETE', `/v1/users/${user}/revoke`)).body.lifted).toBe(true);
    await liftButton.click();
    await page.getByRole('button', { name: 'Lift', exact: true }).click();
    await poll(() => page.getByRole('status').first().innerText()).toBe(
      `${user} had no revocation on this node; nothing to lift.`,
    );
    await poll(() => revocation.innerText()).toBe('Not revoked');
    expect(await liftButton.count()).toBe(0);
    // A node that cannot say (one of an older version answers 405) leaves the state unknown and the lift offered.
    await page.route(`**/v1/users/${user}/revoke`, (route) =>
      route.request().method() === 'GET'
        ? route.fulfill({
            status: 405,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'method_not_allowed', message: 'Method not allowed.' } }),
          })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Refresh' }).click();
    await poll(() => revocation.innerText()).toBe('Revocation unknown');
    expect(await liftButton.count()).toBe(1);
    await page.unroute(`**/v1/users/${user}/revoke`);
    await page.setViewportSize({ width: 400, height: 800 });
    await poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    await context.close();
  }, 90_000);

  it('pages back through history with before, lists presence members, pages the channel list with after', async () => {
    const server = await apiServer({ admin: { key: ADMIN_KEY } });
    const tag = Math.random().toString(36).slice(2, 8);
    const channel = `room:paging-${tag}`;
    const sdk = await client(server, `present-${tag}`);
    await waitState(sdk, 'connected');
    await sdk.presence(channel).enter({ typing: true });
    for (let i = 1; i <= 25; i++) await api(server, 'POST', '/v1/publish', { channel, data: { n: i } });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${server.url}/admin/channels/${encodeURIComponent(channel)}`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByLabel('Admin key').press('Enter');
    await poll(() => heading(page)).toBe(channel);

    const offsets = () =>
      page
        .getByTestId('history')
        .locator('li')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-offset'))));
    const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);
    await poll(offsets).toEqual(range(25, 6));
    const pager = page.getByRole('navigation', { name: 'History pages' });
    expect(await pager.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Older' }).click();
    await poll(offsets).toEqual(range(5, 1));
    await poll(() => pager.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Newer' }).click();
    await poll(offsets).toEqual(range(25, 6));

    const members = page.getByRole('table', { name: 'Presence members' });
    await poll(() => members.innerText()).toMatch(new RegExp(`present-${tag}\\s+1`));
    expect(await members.innerText()).toContain('"typing": true');

    // The channel list pages with the API's `after` cursor: 55 channels are 50 + 5, each once.
    const names = Array.from({ length: 55 }, (_, i) => `chat:many-${tag}-${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((n) => sdk.subscribe(n).ready));
    await page.goto(`${server.url}/admin/channels`);
    // The search goes to the server once typing pauses.
    const searched = page.waitForResponse((r) => r.url().includes(`prefix=chat%3Amany-${tag}-`));
    await page.getByLabel('Name starts with').fill(`chat:many-${tag}-`);
    await searched;
    const listed = () =>
      page
        .locator('table[data-testid="channels-table"] tbody tr')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-channel')));
    await poll(listed).toEqual(names.slice(0, 50));
    const channelPager = page.getByRole('navigation', { name: 'Channel pages' });
    await channelPager.getByRole('button', { name: 'Next' }).click();
    await poll(listed).toEqual(names.slice(50));
    await poll(() => channelPager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await channelPager.getByRole('button', { name: 'Previous' }).click();
    await poll(listed).toEqual(names.slice(0, 50));
    await context.close();
  }, 60_000);
});
