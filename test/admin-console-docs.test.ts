/**
 * The console's Documents, App versions and Webhooks pages in a real
 * browser (the machine's Chromium) against a real server: the document
 * list (live: a new document appears, versions move), a document's state and ops updating live when a test client
 * mutates, the JSON tree by keyboard, "Run mutator" (invalid JSON sends
 * nothing; a confirmed run reaches the client's replica), deep links and
 * the back button, an announce the client hears, and a failed webhook
 * delivery retried once its receiver is fixed. Takes docs/admin-doc.png
 * when SYNCLINE_SCREENSHOTS=1.
 */
import { join } from 'node:path';
import type { AppUpdate } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../examples/chat/e2e/harness.js';
import {
  ensureConsoleBuilt,
  markNotReloaded,
  notReloaded,
  poll,
  RUN_BROWSER,
  SHOTS,
  signIn,
  textOf,
  UI_TIMEOUT_MS,
} from './admin-browser.js';
import { ADMIN_KEY } from './admin-helpers.js';
import { testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, SECRET, startServer, waitFor, waitState } from './helpers.js';
import { startReceiver } from './webhooks-receiver.js';

/** The version column of the ops table, newest first. */
function opVersions(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="doc-ops"] tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version') ?? ''));
}

/** Checks that the page fits 400 px without sideways scrolling, then restores 1280×800. */
async function fitsNarrow(page: Page): Promise<void> {
  await page.setViewportSize({ width: 400, height: 800 });
  await poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe.runIf(RUN_BROWSER)('console: documents, app versions, webhooks in Chromium', () => {
  let browser: Browser;
  let server: SynclineServer;

  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows documents live, runs a mutator, announces a version and retries a failed webhook', async () => {
    const receiver = await startReceiver();
    receiver.respond = () => 500;
    server = await startServer({
      admin: { key: ADMIN_KEY },
      docs: { notes: testDocNamespace() },
      webhooks: [{ url: receiver.url, secret: SECRET, events: ['doc.committed'], retryForMs: 300 }],
      webhookDelivery: { retryBaseMs: 50, retryMaxMs: 100, pollIntervalMs: 50 },
    });
    // A test client writes two documents.
    const alice = await client(server, 'alice', { app: { version: '1.0.0' } });
    const updates: AppUpdate[] = [];
    alice.on('update', (u) => updates.push(u));
    await waitState(alice, 'connected');
    const doc = alice.doc('notes:a', { mutators: testMutators });
    await doc.ready;
    await doc.mutate.addItem({ id: 'i1', text: 'hello from alice' });
    const other = alice.doc('notes:b', { mutators: testMutators });
    await other.ready;
    await other.mutate.increment({});

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const mutates: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/mutate')) mutates.push(r.postData() ?? '');
    });
    await signIn(page, server.url);

    // The list: both documents, then one namespace.
    await page.getByRole('link', { name: 'Documents' }).click();
    await poll(() => page.getByTestId('doc-list').innerText()).toMatch(/notes:a\s+1[\s\S]*notes:b\s+1/);
    // Live: a new document appears and its version moves, without a reload.
    await markNotReloaded(page);
    const third = alice.doc('notes:c', { mutators: testMutators });
    await third.ready;
    await third.mutate.increment({});
    const rowOf = (name: string) => page.locator('[data-testid="doc-list"] tbody tr').filter({ hasText: name });
    await poll(() => rowOf('notes:c').innerText()).toMatch(/^notes:c\s+1\s/);
    await third.mutate.increment({});
    await poll(() => rowOf('notes:c').innerText()).toMatch(/^notes:c\s+2\s/);
    expect(await notReloaded(page)).toBe(true);
    await page.getByLabel('Namespace').selectOption('notes');
    await page.getByLabel('Name starts with').fill('notes:a');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => page.locator('[data-testid="doc-list"] tbody tr').count()).toBe(1);
    await fitsNarrow(page);

    // A document: its version, state and ops.
    await page.getByRole('link', { name: 'notes:a' }).click();
    expect(new URL(page.url()).pathname).toBe('/admin/docs/notes%3Aa');
    await poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
    await poll(() => textOf(page, 'doc-version')).toBe('1');
    await poll(() => textOf(page, 'doc-live')).toBe('Live');
    await poll(() => textOf(page, 'doc-schema')).toBe('1');
    await poll(() => textOf(page, 'doc-clients')).toBe('1');
    await poll(() => page.getByTestId('json-tree').innerText()).toMatch(/text: "hello from alice"/);
    await poll(() => page.getByTestId('doc-ops').innerText()).toMatch(
      /1\s+addItem\s+\{"id":"i1","text":"hello from alice"\}\s+alice/,
    );

    // The test client mutates: version, state and ops follow without a reload.
    await markNotReloaded(page);
    await doc.mutate.increment({ by: 4 });
    await poll(() => textOf(page, 'doc-version')).toBe('2');
    await poll(() => page.getByTestId('json-tree').innerText()).toMatch(/count: 4/);
    await poll(() => opVersions(page)).toEqual(['2', '1']);
    expect(await page.getByTestId('doc-ops').innerText()).toMatch(/2\s+increment\s+\{"by":4\}\s+alice/);
    expect(await notReloaded(page)).toBe(true);

    // The tree by keyboard: one tab stop, arrows move, Left closes, Enter opens.
    const items = page.getByRole('treeitem', { name: /^items:/ });
    await page.getByRole('treeitem').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toMatch(/^▾items: \[1 item\]/);
    await page.keyboard.press('ArrowLeft');
    await poll(() => items.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await poll(() => items.getAttribute('aria-expanded')).toBe('true');

    // Invalid JSON arguments: an error, and nothing can be sent.
    await page.getByLabel('Mutator', { exact: true }).selectOption('increment');
    const args = page.getByLabel('Arguments (JSON)');
    await args.fill('{"by": ');
    await poll(() => textOf(page, 'args-error')).toMatch(/^Arguments are not valid JSON/);
    expect(await page.getByRole('button', { name: 'Review…' }).isDisabled()).toBe(true);
    expect(mutates).toEqual([]);

    // A valid run: the confirm step shows the request; confirmed, the test client's replica has it.
    await args.fill('{"by": 5}');
    await page.getByRole('button', { name: 'Review…' }).click();
    await poll(() => textOf(page, 'confirm-request')).toBe(
      'POST /v1/docs/notes%3Aa/mutate\n{\n  "name": "increment",\n  "args": {\n    "by": 5\n  },\n  "userId": "syncline-console"\n}',
    );
    expect(mutates).toEqual([]);
    await page.getByRole('button', { name: 'Run mutator' }).click();
    await poll(() => page.getByRole('status').filter({ hasText: 'Applied' }).innerText()).toBe(
      'Applied: the document is at version 3.',
    );
    await waitFor(() => doc.confirmed?.count === 9, 5_000, "the console's mutation on the client");
    await poll(() => opVersions(page)).toEqual(['3', '2', '1']);
    expect(await page.getByTestId('doc-ops').innerText()).toMatch(/3\s+increment\s+\{"by":5\}\s+syncline-console/);
    expect(mutates).toHaveLength(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'admin-doc.png') });
    await fitsNarrow(page);

    // Back to the list, forward to the document, and a deep link.
    await page.goBack();
    await poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Documents');
    await page.goForward();
    await poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('notes:a');
    await page.goto(`${server.url}/admin/docs/notes%3Ab`);
    await poll(() => textOf(page, 'doc-version')).toBe('1');

    // App versions: announce an available version; the test client is told.
    await page.getByRole('link', { name: 'App versions' }).click();
    await poll(() => textOf(page, 'app-current')).toMatch(/No app version is set/);
    // The connected clients by app version: alice's 1.0.0 (current), and the console's own connection (none sent).
    const alices = page.locator('[data-testid="client-versions"] tr[data-version="1.0.0"]');
    await poll(() => alices.innerText()).toMatch(/^1\.0\.0\s+1\s+Current$/);
    await poll(() => textOf(page, 'client-totals')).toMatch(/^2 connected clients: 2 current, 0 with an update/);
    await page.getByLabel('App version', { exact: true }).fill('2.0.0');
    await page.getByLabel('Update available below').fill('2.0.0');
    await page.getByLabel('Message (optional)').fill('Threads are here.');
    await page.getByRole('button', { name: 'Review…' }).click();
    expect(JSON.parse((await textOf(page, 'confirm-request')).replace(/^POST \/v1\/app\/announce\n/, ''))).toEqual({
      version: '2.0.0',
      recommendedClientVersion: '2.0.0',
      message: 'Threads are here.',
    });
    expect(updates).toEqual([]);
    await page.getByRole('button', { name: 'Announce' }).click();
    await waitFor(() => updates.length === 1, 5_000, 'an update event');
    expect(updates[0]).toMatchObject({ status: 'available', version: '2.0.0', message: 'Threads are here.' });
    await poll(() => textOf(page, 'announce-result')).toMatch(
      /^Announced\. \d+ connected clients? on this node told; now 1 with an update available, 0 required/,
    );
    await poll(() => textOf(page, 'app-current')).toMatch(/2\.0\.0/);
    // The list is read again: alice's version now has an update available.
    await poll(() => alices.innerText()).toMatch(/^1\.0\.0\s+1\s+Update available$/);
    await poll(() => textOf(page, 'client-totals')).toMatch(/: 1 current, 1 with an update available, 0 that must/);
    await fitsNarrow(page);

    // Webhooks: the receiver answered 500, so the six commits' deliveries failed; fixed, one is retried and leaves the list.
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const rows = page.locator('[data-testid="deliveries"] > li');
    await poll(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return rows.count();
    }).toBe(6);
    await poll(() => textOf(page, 'wh-failed')).toBe('6');
    const first = rows.first();
    const id = await first.getAttribute('data-delivery');
    expect(await first.innerText()).toMatch(/failed\s+doc\.committed/);
    receiver.respond = () => 200;
    await first.getByRole('button', { name: `Retry #${id}…` }).click();
    await poll(() => textOf(page, 'confirm-request')).toBe(`POST /v1/webhooks/deliveries/${id}/retry`);
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await poll(() => rows.count()).toBe(5);
    expect(await page.locator(`[data-delivery="${id}"]`).count()).toBe(0);
    await waitFor(() => receiver.accepted().length === 1, 5_000, 'the retried event at the receiver');
    await poll(() => textOf(page, 'wh-failed')).toBe('5');
    await fitsNarrow(page);

    // A node without webhooks says so.
    const plain = await startServer({ admin: { key: ADMIN_KEY } });
    await signIn(page, plain.url);
    await page.goto(`${plain.url}/admin/webhooks`);
    await poll(() => textOf(page, 'wh-none')).toMatch(/^No webhooks are configured on this node/);
    await poll(() => textOf(page, 'deliveries-empty')).toBe('No failed deliveries.');
    await context.close();
  }, 120_000);
});
