import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  CHROMIUM,
  type ChatServer,
  ensureBuilt,
  hasChromium,
  launchBrowser,
  startChatServer,
} from './harness.js';

// With SYNCLINE_REQUIRE_SERVICES=1 (CI) a missing Chromium fails the suite instead of skipping it.
const required = process.env.SYNCLINE_REQUIRE_SERVICES === '1';
const run = hasChromium() || required;

const UI_TIMEOUT_MS = 15_000;

interface User {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

async function shot(u: User, name: string): Promise<void> {
  await u.page.screenshot({ path: join(ARTIFACTS, `${name}-${u.name.toLowerCase()}.png`) });
}

function messageTexts(u: User): Promise<string[]> {
  return u.page.getByTestId('message-text').allTextContents();
}

function message(u: User, text: string) {
  return u.page
    .getByTestId('message')
    .filter({ has: u.page.getByTestId('message-text').getByText(text, { exact: true }) });
}

/**
 * What the network does to Ada's WebSocket (routed through Playwright from
 * the start): pass frames, refuse connections, or corrupt the `send`
 * mutations of messages starting with "refused:" so the server rejects them.
 */
const adaNetwork = { unreachable: false, corruptSends: false };

function corrupt(frame: string | Buffer): string | Buffer {
  if (typeof frame !== 'string') return frame;
  const parsed = JSON.parse(frame) as Record<string, unknown> | Record<string, unknown>[];
  let changed = false;
  for (const cmd of Array.isArray(parsed) ? parsed : [parsed]) {
    const args = cmd.args as { text?: unknown } | undefined;
    if (cmd.type === 'doc.mutate' && cmd.name === 'send' && String(args?.text).startsWith('refused:')) {
      cmd.args = { ...args, text: '' };
      changed = true;
    }
  }
  return changed ? JSON.stringify(parsed) : frame;
}

async function send(u: User, text: string): Promise<void> {
  await u.page.getByTestId('composer').fill(text);
  await u.page.getByTestId('composer').press('Enter');
}

/**
 * Where the newest message is against the timeline's visible box, after the
 * next two frames (layout done): `inView` when it and whatever follows it in
 * the timeline (its "seen by" line) are wholly visible.
 */
function newestMessagePlacement(u: User): Promise<{ inView: boolean; scrollTop: number; detail: string }> {
  return u.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const timeline = document.querySelector('[data-testid="timeline"]') as HTMLElement;
    const all = timeline.querySelectorAll('[data-testid="message"]');
    const newest = (all[all.length - 1] as HTMLElement).getBoundingClientRect();
    const end = (timeline.lastElementChild as HTMLElement).getBoundingClientRect();
    const t = timeline.getBoundingClientRect();
    return {
      inView: newest.top >= t.top - 1 && Math.max(newest.bottom, end.bottom) <= t.bottom + 1,
      scrollTop: timeline.scrollTop,
      detail: `timeline ${t.top}–${t.bottom}, newest message ${newest.top}–${newest.bottom}, last row ends at ${end.bottom}`,
    };
  });
}

/** Each avatar of the header stack: its color, its initials, and whether the initials are wholly visible. */
function headerAvatars(u: User): Promise<{ user: string; color: string; text: string; whole: boolean }[]> {
  return u.page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="here"] [data-testid="avatar"]')].map((el) => {
      const avatar = el as HTMLElement;
      const initials = avatar.querySelector('.initials') as HTMLElement;
      const box = avatar.getBoundingClientRect();
      const text = initials.getBoundingClientRect();
      const inside =
        text.left >= box.left && text.right <= box.right && text.top >= box.top && text.bottom <= box.bottom;
      // Nothing (a neighbour in the stack) covers the ends of the text.
      const y = (text.top + text.bottom) / 2;
      const uncovered = [text.left + 0.5, text.right - 0.5].every((x) =>
        avatar.contains(document.elementFromPoint(x, y)),
      );
      return {
        user: avatar.dataset.user ?? '',
        color: getComputedStyle(avatar).backgroundColor,
        text: initials.textContent ?? '',
        whole: inside && uncovered,
      };
    }),
  );
}

describe.skipIf(!run)('chat in the browser (two users)', { timeout: 45_000 }, () => {
  let server: ChatServer | undefined;
  let browser: Browser | undefined;
  let ada: User;
  let grace: User;

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`Chromium is required (SYNCLINE_REQUIRE_SERVICES=1) but ${CHROMIUM} is missing.`);
    ensureBuilt();
    server = await startChatServer();
    browser = await launchBrowser();
    const open = async (name: string): Promise<User> => {
      const context = await (browser as Browser).newContext({ viewport: { width: 1100, height: 720 } });
      const page = await context.newPage();
      if (name === 'Ada') {
        await page.routeWebSocket(/\/connect\/ws/, (ws) => {
          if (adaNetwork.unreachable) {
            ws.close();
            return;
          }
          const server = ws.connectToServer();
          ws.onMessage((frame) => server.send(adaNetwork.corruptSends ? corrupt(frame) : frame));
          server.onMessage((frame) => ws.send(frame));
        });
      }
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      await page.goto((server as ChatServer).url);
      await page.getByLabel('Your name').fill(name);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByTestId('composer').waitFor();
      return { name, context, page };
    };
    ada = await open('Ada');
    grace = await open('Grace');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows who is online and who is in the room', async () => {
    await ada.page.getByTestId('online-Grace').waitFor();
    await grace.page.getByTestId('online-Ada').waitFor();
    await expect
      .poll(() => ada.page.getByTestId('here-count').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('2 people here');
  });

  it('sends and receives messages, with read receipts', async () => {
    await send(ada, 'Hi Grace! Did the deploy go out?');
    await message(grace, 'Hi Grace! Did the deploy go out?').waitFor();
    // Grace has the room open, so she has seen it: Ada's message says so.
    await message(ada, 'Hi Grace! Did the deploy go out?').and(ada.page.locator('[data-delivery="sent"]')).waitFor();
    await ada.page.getByTestId('seen-by').filter({ hasText: 'Seen by Grace' }).waitFor();
    await send(grace, 'Yes, ten minutes ago. All green.');
    await message(ada, 'Yes, ten minutes ago. All green.').waitFor();
    expect(await messageTexts(ada)).toEqual(await messageTexts(grace));
  });

  it('shows the typing indicator while the other user types', async () => {
    await grace.page.getByTestId('composer').fill('I am typing somethi');
    await ada.page.getByTestId('typing').getByText('Grace is typing').waitFor();
    await grace.page.getByTestId('composer').fill('');
    await expect.poll(() => ada.page.getByTestId('typing').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('');
  });

  it('reacts to a message and both sides see the reaction', async () => {
    const target = message(ada, 'Yes, ten minutes ago. All green.');
    await target.hover();
    await target.getByTestId('react-🎉').click();
    await message(grace, 'Yes, ten minutes ago. All green.')
      .getByTestId('reaction')
      .filter({ hasText: '🎉 1' })
      .waitFor();
    await shot(ada, '1-conversation');
    await shot(grace, '1-conversation');
  });

  it('counts unread messages per room', async () => {
    await grace.page.getByTestId('room-random').click();
    await grace.page.getByTestId('composer').waitFor();
    await send(grace, 'Lunch at noon?');
    await ada.page.getByTestId('unread-random').filter({ hasText: '1' }).waitFor();
    await expect.poll(() => ada.page.title(), { timeout: UI_TIMEOUT_MS }).toBe('(1) Syncline Chat');
    await shot(ada, '2-unread');
    await ada.page.getByTestId('room-random').click();
    await message(ada, 'Lunch at noon?').waitFor();
    await expect.poll(() => ada.page.getByTestId('unread-random').count(), { timeout: UI_TIMEOUT_MS }).toBe(0);
    await expect.poll(() => ada.page.title(), { timeout: UI_TIMEOUT_MS }).toBe('Syncline Chat');
  });

  it('says who is here only while connected', async () => {
    await expect
      .poll(() => ada.page.getByTestId('here-count').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('2 people here');
    await ada.context.setOffline(true);
    await ada.page.locator('[data-testid="banner"][data-state="offline"]').waitFor();
    // Offline, the last list of who is here is a guess: the header does not claim it.
    expect(await ada.page.getByTestId('here-count').textContent()).toBe('Offline');
    expect(await ada.page.getByTestId('here').getByTestId('avatar').count()).toBe(0);
    // The sidebar lists who was last seen, without online dots.
    await ada.page.getByTestId('online').getByText('Last seen online').waitFor();
    expect(await ada.page.getByTestId('online').locator('.presence-dot').count()).toBe(0);
    await ada.context.setOffline(false);
    await expect
      .poll(() => ada.page.getByTestId('here-count').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('2 people here');
    expect(await ada.page.getByTestId('here').getByTestId('avatar').count()).toBe(2);
    await ada.page.getByTestId('banner').waitFor({ state: 'detached' });
  });

  it('keeps the newest message in view when a banner comes or goes, unless the user scrolled up', async () => {
    for (let i = 1; i <= 30; i++) await send(ada, `filler ${i}: enough lines for the timeline to scroll`);
    await message(ada, 'filler 30: enough lines for the timeline to scroll').waitFor();
    const before = await newestMessagePlacement(ada);
    expect(before.inView, before.detail).toBe(true);
    // Far enough from the bottom to read older messages (the reader case below).
    expect(before.scrollTop).toBeGreaterThan(200);

    await ada.context.setOffline(true);
    await ada.page.locator('[data-testid="banner"][data-state="offline"]').waitFor();
    const offline = await newestMessagePlacement(ada);
    expect(offline.inView, offline.detail).toBe(true);
    await shot(ada, 'offline-banner-pinned');

    await ada.context.setOffline(false);
    await ada.page.locator('[data-testid="banner"][data-state="online"]').waitFor();
    const back = await newestMessagePlacement(ada);
    expect(back.inView, back.detail).toBe(true);
    await ada.page.getByTestId('banner').waitFor({ state: 'detached' });
    const gone = await newestMessagePlacement(ada);
    expect(gone.inView, gone.detail).toBe(true);

    // Scrolled up to read: a banner does not move the reader's position.
    await ada.page.getByTestId('timeline').evaluate((el) => {
      el.scrollTop = 40;
      el.dispatchEvent(new Event('scroll'));
    });
    await ada.context.setOffline(true);
    await ada.page.locator('[data-testid="banner"][data-state="offline"]').waitFor();
    const reading = await newestMessagePlacement(ada);
    expect(reading.scrollTop).toBe(40);
    expect(reading.inView).toBe(false);
    await ada.context.setOffline(false);
    await ada.page.locator('[data-testid="banner"][data-state="online"]').waitFor();
    // Back at the bottom for the next steps.
    await ada.page.getByTestId('timeline').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      el.dispatchEvent(new Event('scroll'));
    });
  });

  it('keeps messages sent offline pending and delivers them once, in order, when back online', async () => {
    await ada.context.setOffline(true);
    await ada.page.locator('[data-testid="banner"][data-state="offline"]').waitFor();
    const texts = ['offline one', 'offline two', 'offline three'];
    for (const t of texts) await send(ada, t);
    for (const t of texts) await message(ada, t).and(ada.page.locator('[data-delivery="pending"]')).waitFor();
    await shot(ada, '3-offline-pending');
    expect(await messageTexts(grace)).not.toContain('offline one');

    await ada.context.setOffline(false);
    for (const t of texts) await message(ada, t).and(ada.page.locator('[data-delivery="sent"]')).waitFor();
    await ada.page.locator('[data-testid="banner"][data-state="online"]').waitFor();
    await message(grace, 'offline three').waitFor();
    for (const u of [ada, grace]) {
      const all = await messageTexts(u);
      expect(all.filter((t) => t.startsWith('offline '))).toEqual(texts);
    }
    await shot(grace, '4-delivered');
  });

  it('shows a message the server refuses as not sent, and Retry sends it', async () => {
    const text = 'refused: the first try of this message is corrupted on the way';
    adaNetwork.corruptSends = true;
    await send(ada, text);
    await message(ada, text).and(ada.page.locator('[data-delivery="failed"]')).waitFor();
    await shot(ada, '5-failed');
    adaNetwork.corruptSends = false;
    await message(ada, text).getByRole('button', { name: 'Retry' }).click();
    await message(ada, text).and(ada.page.locator('[data-delivery="sent"]')).waitFor();
    await message(grace, text).waitFor();
    expect((await messageTexts(grace)).filter((t) => t === text)).toHaveLength(1);
    expect((await messageTexts(ada)).filter((t) => t === text)).toHaveLength(1);
  });

  it('keeps the history and pending messages across a page reload', async () => {
    // The server becomes unreachable for Ada (every Syncline transport refused), the page itself still loads.
    adaNetwork.unreachable = true;
    await ada.context.route(/\/connect\//, (route) => (adaNetwork.unreachable ? route.abort() : route.continue()));
    await ada.page.evaluate(() => window.dispatchEvent(new Event('offline')));
    await ada.page.locator('[data-testid="banner"][data-state="offline"]').waitFor();
    await send(ada, 'sent before the reload');
    await message(ada, 'sent before the reload').and(ada.page.locator('[data-delivery="pending"]')).waitFor();
    // Wait until the replica store (IndexedDB) holds the pending message.
    await expect
      .poll(
        () =>
          ada.page.evaluate(async () => {
            const dbs = await indexedDB.databases();
            let found = false;
            for (const info of dbs) {
              if (!info.name?.startsWith('syncline-chat.')) continue;
              const db = await new Promise<IDBDatabase>((res, rej) => {
                const r = indexedDB.open(info.name as string);
                r.onsuccess = () => res(r.result);
                r.onerror = () => rej(r.error);
              });
              const rec = await new Promise<unknown>((res) => {
                const req = db.transaction('replicas').objectStore('replicas').get('room:random');
                req.onsuccess = () => res(req.result);
                req.onerror = () => res(undefined);
              });
              db.close();
              const pending = (rec as { pending?: { args?: { text?: string } }[] } | undefined)?.pending ?? [];
              if (pending.some((p) => p.args?.text === 'sent before the reload')) found = true;
            }
            return found;
          }),
        { timeout: UI_TIMEOUT_MS },
      )
      .toBe(true);

    await ada.page.reload();
    await ada.page.getByTestId('composer').waitFor();
    await message(ada, 'Lunch at noon?').waitFor();
    await message(ada, 'offline three').waitFor();
    await message(ada, 'sent before the reload').and(ada.page.locator('[data-delivery="pending"]')).waitFor();
    await shot(ada, '6-reloaded-pending');
    expect(await messageTexts(grace)).not.toContain('sent before the reload');

    adaNetwork.unreachable = false;
    await ada.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await message(ada, 'sent before the reload').and(ada.page.locator('[data-delivery="sent"]')).waitFor();
    await message(grace, 'sent before the reload').waitFor();
    const graceTexts = await messageTexts(grace);
    expect(graceTexts.filter((t) => t === 'sent before the reload')).toHaveLength(1);
    expect(graceTexts.filter((t) => t.startsWith('offline '))).toEqual(['offline one', 'offline two', 'offline three']);
    await shot(grace, '7-after-reload');
  });

  it('shows a new-version banner on announce, a blocking dialog when the version is required', async () => {
    const srv = server as ChatServer;
    const announce = (body: Record<string, string>): Promise<Response> =>
      fetch(`${srv.url}/v1/app/announce`, {
        method: 'POST',
        headers: { authorization: `Bearer ${srv.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // The server runs the version the page announces (syncline.config.ts and src/app.tsx): no banner.
    expect(await grace.page.getByTestId('update-banner').count()).toBe(0);

    expect((await announce({ version: '0.2.0', recommendedClientVersion: '0.2.0' })).status).toBe(200);
    const available = grace.page.locator('[data-testid="update-banner"][data-state="available"]');
    await available.getByText('New version available').waitFor();
    await shot(grace, '8-update-available');
    // Non-blocking: the chat keeps working.
    await send(grace, 'still chatting with 0.1.0');
    await message(ada, 'still chatting with 0.1.0').waitFor();

    const res = await announce({ version: '0.2.0', minClientVersion: '0.2.0', message: 'Chat 0.2 is out.' });
    expect(res.status).toBe(200);
    const required = grace.page.locator('[data-testid="update-banner"][data-state="required"]');
    await required.getByText('Chat 0.2 is out.').waitFor();
    // Grace has not reloaded since the banner: the dialog asks for the reload (the loop guard does not hold yet).
    await required.getByText('can no longer send them').waitFor();
    await required.getByRole('button', { name: 'Reload' }).waitFor();
    await shot(grace, '9-update-required');

    // Announcing the running version again takes the banner away.
    expect((await announce({ version: '0.1.0' })).status).toBe(200);
    await expect.poll(() => grace.page.getByTestId('update-banner').count(), { timeout: UI_TIMEOUT_MS }).toBe(0);
  });

  it('gives "Ada" and "ada" different avatars, with whole initials in the header stack', async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      // Into the room Ada has open.
      await page.goto(`${(server as ChatServer).url}/#/random`);
      await page.getByLabel('Your name').fill('ada');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByTestId('composer').waitFor();
      await ada.page.getByTestId('online-ada').waitFor();
      await expect
        .poll(() => ada.page.getByTestId('here-count').textContent(), { timeout: UI_TIMEOUT_MS })
        .toBe('3 people here');
      const stack = await headerAvatars(ada);
      expect(stack.map((a) => a.user).sort()).toEqual(['Ada', 'Grace', 'ada']);
      const upper = stack.find((a) => a.user === 'Ada');
      const lower = stack.find((a) => a.user === 'ada');
      expect(upper?.color).not.toBe(lower?.color);
      expect(upper?.text).not.toBe(lower?.text);
      for (const a of stack) expect(a, `${a.user}: ${a.text}`).toMatchObject({ whole: true });
      // The sidebar's avatars tell them apart too.
      const sidebarColor = (user: string) =>
        ada.page
          .getByTestId(`online-${user}`)
          .getByTestId('avatar')
          .evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(await sidebarColor('Ada')).not.toBe(await sidebarColor('ada'));
      await shot(ada, 'avatars');
    } finally {
      await context.close();
    }
  });

  it('says which names it takes, and shows a visible error for a name it refuses', async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      await page.goto((server as ChatServer).url);
      await expect.poll(() => page.getByTestId('name-hint').textContent()).toContain('letters, digits, spaces');
      await page.getByLabel('Your name').fill('Ada 🚀');
      const error = page.getByTestId('signin-error');
      await error.getByText('🚀 is not allowed').waitFor();
      expect(await error.isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Continue' }).isDisabled()).toBe(true);
      // Red on a light background, not the muted grey of the card's text.
      const [r, g, b] = (await error.evaluate((el) => getComputedStyle(el).color)).match(/\d+/g)?.map(Number) ?? [];
      expect(r).toBeGreaterThan(150);
      expect(g).toBeLessThan(80);
      expect(b).toBeLessThan(80);
      await page.screenshot({ path: join(ARTIFACTS, 'signin-refused.png') });
      // The form's rule is the server's: the server refuses the same name.
      const refused = await fetch(`${(server as ChatServer).url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada 🚀' }),
      });
      expect(refused.status).toBe(400);

      // Letters beyond ASCII are fine; an accent typed as a separate mark is merged before sending.
      await page.getByLabel('Your name').fill('Jose\u0301 Núñez');
      expect(await page.getByTestId('signin-error').count()).toBe(0);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByTestId('composer').waitFor();
      await page.getByTestId('online-José Núñez').waitFor();
    } finally {
      await context.close();
    }
  });
});
