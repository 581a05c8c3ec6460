/**
 * The HTTP transports in a real browser: the client bundle runs in headless
 * Chromium, so SSE goes through the browser's own `EventSource`, POSTs and
 * polls through its `fetch` (cross-origin, as from an app served elsewhere),
 * and a remembered fallback goes into the tab's real `sessionStorage`.
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { SynclineServer } from '@syncline/server';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, launchBrowser } from '../examples/chat/e2e/harness.js';
import { client, defer, describeValue, startServer, token, waitFor, waitForValue } from './helpers.js';
import { startProxy } from './http-proxy.js';

// With SYNCLINE_REQUIRE_SERVICES=1 (CI) a missing Chromium fails the suite instead of skipping it.
const required = process.env.SYNCLINE_REQUIRE_SERVICES === '1';
const run = hasChromium() || required;

const PAGE_TIMEOUT_MS = 15_000;

/** Counts the `EventSource` objects the page creates (wraps the browser's own). */
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>syncline transports</title>
<script>
  window.__eventSources = [];
  const NativeEventSource = window.EventSource;
  window.EventSource = class extends NativeEventSource {
    constructor(url, init) { super(url, init); window.__eventSources.push(String(url)); }
  };
</script>
<script src="/syncline.js"></script>`;

/** Serves the test page and the client bundle on its own origin; closed after the suite. */
async function startPageServer(bundle: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/syncline.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(PAGE_HTML);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`, server };
}

interface PageClientInfo {
  readonly state: string;
  readonly transport: string | undefined;
  readonly got: unknown[];
  readonly eventSources: string[];
  readonly storage: string[];
}

/** Creates `window.c` in the page (options as JSON) and subscribes it to `channel`. */
async function openPageClient(page: Page, options: Record<string, unknown>, channel: string): Promise<void> {
  await page.evaluate(
    async ({ options, channel }) => {
      const w = window as unknown as {
        Syncline: { createClient(o: unknown): unknown };
        c: {
          state: string;
          subscribe(ch: string, o: unknown): { ready: Promise<unknown> };
        };
        got: unknown[];
      };
      w.got = [];
      w.c = w.Syncline.createClient({ ...options, reconnect: { minDelayMs: 50, maxDelayMs: 500 } }) as typeof w.c;
      await w.c.subscribe(channel, { onPublication: (p: { data: unknown }) => w.got.push(p.data) }).ready;
    },
    { options, channel },
  );
}

function pageInfo(page: Page): Promise<PageClientInfo> {
  return page.evaluate(() => {
    const w = window as unknown as {
      c: { state: string; transport: string | undefined };
      got: unknown[];
      __eventSources: string[];
    };
    const storage: string[] = [];
    for (let i = 0; i < sessionStorage.length; i++)
      storage.push(sessionStorage.getItem(sessionStorage.key(i) ?? '') ?? '');
    return {
      state: w.c.state,
      transport: w.c.transport,
      got: [...w.got],
      eventSources: [...w.__eventSources],
      storage,
    };
  });
}

function pagePublish(page: Page, channel: string, data: unknown): Promise<void> {
  return page.evaluate(
    async ({ channel, data }) => {
      await (window as unknown as { c: { publish(ch: string, d: unknown): Promise<unknown> } }).c.publish(
        channel,
        data,
      );
    },
    { channel, data },
  );
}

/** A Node client on WebSocket subscribed to `channel`, collecting what it receives. */
async function watcher(server: SynclineServer, channel: string): Promise<unknown[]> {
  const got: unknown[] = [];
  const c = await client(server, 'node-watcher', { transports: ['websocket'] });
  await c.subscribe(channel, { onPublication: (p) => got.push(p.data) }).ready;
  return got;
}

describe.skipIf(!run)('HTTP transports in a real browser (Chromium)', { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  let pages: { url: string; server: Server } | undefined;

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`Chromium is required (SYNCLINE_REQUIRE_SERVICES=1) but ${CHROMIUM} is missing.`);
    const out = await build({
      entryPoints: [fileURLToPath(new URL('../packages/client/src/index.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      globalName: 'Syncline',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'warning',
      alias: { '@syncline/protocol': fileURLToPath(new URL('../packages/protocol/src/index.ts', import.meta.url)) },
    });
    pages = await startPageServer(out.outputFiles[0]?.text ?? '');
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (pages ? pages.server.close(() => resolve()) : resolve()));
  });

  /** The page's origin: a browser app served elsewhere, which the server must list in `allowedOrigins`. */
  function pageOrigin(): string {
    return new URL(pages?.url ?? '').origin;
  }

  async function newPage(): Promise<Page> {
    const context = await (browser as Browser).newContext();
    defer(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await page.goto(pages?.url ?? '');
    return page;
  }

  for (const transport of ['sse', 'longpoll'] as const) {
    it(`transports: ['${transport}'] subscribes, publishes and receives in the browser`, async () => {
      const server = await startServer({ allowedOrigins: [pageOrigin()] });
      const channel = `chat:browser-${transport}`;
      const seenByNode = await watcher(server, channel);
      const page = await newPage();
      await openPageClient(
        page,
        { url: server.url, token: await token('page-user'), transports: [transport] },
        channel,
      );

      let info = await pageInfo(page);
      expect([info.state, info.transport]).toEqual(['connected', transport]);
      if (transport === 'sse') {
        // The browser's own EventSource carried the stream, not the fetch reader.
        expect(info.eventSources).toEqual([`${server.url}/connect/sse`]);
      } else {
        expect(info.eventSources).toEqual([]);
      }

      // Client → server over HTTP POST, server → client over the stream or polls.
      await pagePublish(page, channel, `from-${transport}-page`);
      await server.publish(channel, 'from-server');
      await page.waitForFunction((n) => (window as unknown as { got: unknown[] }).got.length >= n, 2);
      info = await pageInfo(page);
      expect(info.got).toEqual([`from-${transport}-page`, 'from-server']);
      await waitForValue(
        () => seenByNode,
        [`from-${transport}-page`, 'from-server'],
        5_000,
        'publications at the Node watcher',
      );
      expect(seenByNode).toEqual([`from-${transport}-page`, 'from-server']);
      // No WebSocket was involved and no fallback was remembered (a single-transport list).
      expect(info.storage).toEqual([]);
    });
  }

  it('falls back by itself to EventSource behind a proxy that refuses WebSocket, and remembers it for the tab', async () => {
    const server = await startServer({ allowedOrigins: [pageOrigin()] });
    const proxy = await startProxy(server.url, { upgrades: 'refuse' });
    const channel = 'chat:browser-fallback';
    const seenByNode = await watcher(server, channel);
    const page = await newPage();
    // The default transport list, as an app would use it: no transport named.
    await openPageClient(page, { url: proxy.url, token: await token('page-user') }, channel);

    let info = await pageInfo(page);
    expect([info.state, info.transport]).toEqual(['connected', 'sse']);
    expect(proxy.upgrades).toBe(1);
    expect(info.eventSources).toEqual([`${proxy.url}/connect/sse`]);
    expect(info.storage).toEqual(['sse']);

    await pagePublish(page, channel, 'through-the-proxy');
    await server.publish(channel, 'to-the-page');
    await page.waitForFunction(() => (window as unknown as { got: unknown[] }).got.length >= 2);
    info = await pageInfo(page);
    expect(info.got).toEqual(['through-the-proxy', 'to-the-page']);
    await waitFor(
      () => seenByNode.length === 2,
      5_000,
      () => `wanted 2 publications at the Node watcher, saw ${describeValue(seenByNode)}`,
    );

    // A reload in the same tab starts on SSE straight away (sessionStorage), without a new upgrade attempt.
    await page.reload();
    await openPageClient(page, { url: proxy.url, token: await token('page-user') }, channel);
    info = await pageInfo(page);
    expect([info.state, info.transport]).toEqual(['connected', 'sse']);
    expect(proxy.upgrades).toBe(1);
    await server.publish(channel, 'after-reload');
    await page.waitForFunction(() => (window as unknown as { got: unknown[] }).got.length >= 1);
    expect((await pageInfo(page)).got).toEqual(['after-reload']);
  });
});
