import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ReplicaRecord } from '@syncline/client';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, launchBrowser } from '../examples/chat/e2e/harness.js';
import { defer } from './helpers.js';

// With SYNCLINE_REQUIRE_SERVICES=1 (CI) a missing Chromium fails the suite instead of skipping it.
const run = hasChromium() || process.env.SYNCLINE_REQUIRE_SERVICES === '1';

/** `indexedDbStore` bundled for the browser, exposed as `window.indexedDbStore`. */
async function storeBundle(): Promise<string> {
  const out = await build({
    stdin: {
      contents:
        "import { indexedDbStore } from './packages/client/src/docs/indexeddb-store.ts';\n(globalThis as Record<string, unknown>).indexedDbStore = indexedDbStore;",
      resolveDir: join(import.meta.dirname, '..'),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]?.text ?? '';
}

/** An http origin (IndexedDB needs one) serving an empty page. */
async function origin(): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>store</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

type StoreCall = ['load' | 'remove', string, string] | ['save', string, string, ReplicaRecord];

/** Runs store calls in the page, each on a fresh `indexedDbStore({ name })`, and returns their results. */
function inPage(page: Page, calls: StoreCall[]): Promise<unknown[]> {
  return page.evaluate(async (cs) => {
    const make = (
      globalThis as unknown as {
        indexedDbStore(o: { name: string }): {
          load(d: string): Promise<unknown>;
          save(d: string, r: unknown): Promise<void>;
          remove(d: string): Promise<void>;
        };
      }
    ).indexedDbStore;
    const results: unknown[] = [];
    for (const call of cs) {
      const store = make({ name: call[1] });
      if (call[0] === 'load') results.push((await store.load(call[2])) ?? null);
      else if (call[0] === 'save') results.push(await store.save(call[2], call[3]));
      else results.push(await store.remove(call[2]));
    }
    return results;
  }, calls);
}

const record = (pending: number): ReplicaRecord => ({
  clientId: 'c-1',
  nextMutationId: pending + 1,
  confirmed: { version: 7, state: { items: [{ id: 'a', text: 'ünïcode ✓' }], n: null } },
  pending: Array.from({ length: pending }, (_, i) => ({
    id: i + 1,
    name: 'add',
    args: { i },
    ts: 1_700_000_000_000 + i,
  })),
});

describe.skipIf(!run)('indexedDbStore in Chromium', () => {
  it('round-trips replica records, replaces them, keeps names apart, removes them, and survives a reload', async () => {
    if (!hasChromium())
      throw new Error(`Chromium is required (SYNCLINE_REQUIRE_SERVICES=1) but ${CHROMIUM} is missing.`);
    const [bundle, url] = await Promise.all([storeBundle(), origin()]);
    const browser: Browser = await launchBrowser();
    defer(() => browser.close());
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.addScriptTag({ content: bundle });

    expect(await inPage(page, [['load', 'app', 'todo:a']])).toEqual([null]);
    await inPage(page, [
      ['save', 'app', 'todo:a', record(2)],
      ['save', 'app', 'todo:b', record(1)],
      ['save', 'app', 'todo:a', record(3)], // replaces the whole record
    ]);
    expect(await inPage(page, [['load', 'app', 'todo:a']])).toEqual([record(3)]);
    // Another database name (another tab's store) does not see it.
    expect(await inPage(page, [['load', 'other-tab', 'todo:a']])).toEqual([null]);

    // A reload keeps what was saved.
    await page.reload();
    await page.addScriptTag({ content: bundle });
    expect(
      await inPage(page, [
        ['load', 'app', 'todo:a'],
        ['load', 'app', 'todo:b'],
      ]),
    ).toEqual([record(3), record(1)]);
    await inPage(page, [['remove', 'app', 'todo:a']]);
    expect(
      await inPage(page, [
        ['load', 'app', 'todo:a'],
        ['load', 'app', 'todo:b'],
      ]),
    ).toEqual([null, record(1)]);
  });
});
