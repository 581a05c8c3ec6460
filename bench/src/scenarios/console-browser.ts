import { loadavg } from 'node:os';
import { type Browser, chromium } from 'playwright-core';
import { Rig, type RunOptions } from '../harness.js';
import { BENCH_ADMIN_KEY } from '../servers/bench-server.js';
import { call, percentile, pool } from './console-pages.js';

/** Sizes of the console-browser scenario. */
export interface ConsoleBrowserOptions {
  /** Idle connections, each its own user subscribed to its own channel (so as many active channels). */
  readonly connections: number;
  /** Stored documents. */
  readonly docs: number;
  /** Loads of every page, cold and warm each. */
  readonly loads: number;
}

/** One page's load times (ms from the navigation's start to its content on screen). */
export interface ConsoleBrowserRow {
  readonly page: string;
  /** `cold`: a fresh browser context each load (empty cache); `warm`: the same tab loading the page again. */
  readonly cache: 'cold' | 'warm';
  readonly median: number;
  readonly max: number;
  readonly loads: number;
}

/** Result of the scenario: the rows, and what the console's bundle weighs. */
export interface ConsoleBrowserResult {
  readonly rows: ConsoleBrowserRow[];
  /** The same pages on a small server ({@link BASELINE_SIZE}) just before, in the same run: what the machine costs. */
  readonly baseline: ConsoleBrowserRow[];
  /** Bytes of the console's scripts and styles, decoded (one cold load of the overview). */
  readonly assetBytes: number;
  /** The machine's 1-minute load average when the timed loads started and when they ended (other work skews them). */
  readonly loadAverage: readonly [number, number];
}

/** Connections, channels and documents of the small server measured first, as the run's own baseline. */
export const BASELINE_SIZE = 100;
/** The page-load target of the console, ms. */
export const CONSOLE_PAGE_TARGET_MS = 1_000;
/** Longest wait for one page's content; past it the scenario fails (it never hangs), ms. */
const READY_TIMEOUT_MS = 20_000;
/** Publications in the channel whose page is opened (its history browser shows the last 50). */
const BUSY_PUBLICATIONS = 200;
/** Mutations of the document whose page is opened (its recent ops). */
const BUSY_MUTATIONS = 50;
/** The Debian Chromium, with the flags the browser tests use. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 800 };

/** What must be on screen for a page to count as loaded: at least `min` visible matches of each selector. */
interface Shown {
  readonly selector: string;
  readonly min: number;
  /** At most this many visible matches (a search shows nothing else). */
  readonly max?: number;
  /** A match whose text is this does not count (a placeholder such as `–`). */
  readonly not?: string;
}

interface PageSpec {
  readonly name: string;
  readonly path: string;
  readonly shown: readonly Shown[];
}

/** The part of the page's DOM that `readyAt` reads (the bench is not compiled against the DOM). */
interface PageDom {
  readonly document: {
    querySelectorAll(selector: string): ArrayLike<{ getClientRects(): { length: number }; textContent: string | null }>;
  };
}

/**
 * Runs in the page on every animation frame until the page shows its
 * content; then answers the time since the navigation started (ms).
 */
function readyAt(shown: readonly Shown[]): number | false {
  const { document } = globalThis as unknown as PageDom;
  for (const s of shown) {
    const seen = Array.from(document.querySelectorAll(s.selector)).filter(
      (e) => e.getClientRects().length > 0 && (s.not === undefined || (e.textContent ?? '').trim() !== s.not),
    ).length;
    if (seen < s.min || (s.max !== undefined && seen > s.max)) return false;
  }
  return performance.now();
}

/**
 * Writes a setup mutation; one stopped by the mutator time limit (nothing
 * applied: a busy machine can pause the process past it) is sent again.
 */
async function mutate(base: string, doc: string, args: { k: string; t: number }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call(base, 'POST', `/v1/docs/${doc}/mutate`, { name: 'stamp', args });
      return;
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('mutation_timeout')) throw err;
    }
  }
}

function pad(i: number): string {
  return String(i).padStart(6, '0');
}

/** The pages timed, with what each shows once loaded. */
function pages(o: ConsoleBrowserOptions): PageSpec[] {
  const prefix = `bench:c${Math.floor(o.connections / 100) || ''}`;
  const user = `u${Math.floor(o.connections / 2)}`;
  const doc = `bdoc:d${pad(0)}`;
  const rows = (table: string) => ({ selector: `[data-testid="${table}"] tbody tr`, min: 1 });
  return [
    {
      name: 'Overview (nodes, totals, 7 charts)',
      path: 'overview',
      shown: [
        { selector: '[data-testid="node-connections"]', min: 1 },
        { selector: '[data-testid="total-connections"]', min: 1, not: '0' },
        { selector: '.chart-box canvas', min: 7 },
      ],
    },
    { name: 'Channels, first page', path: 'channels', shown: [rows('channels-table')] },
    {
      name: 'Channels, a search by prefix',
      path: `channels?prefix=${encodeURIComponent(prefix)}`,
      shown: [
        { selector: `[data-testid="channels-table"] tbody tr[data-channel^="${prefix}"]`, min: 1 },
        { selector: `[data-testid="channels-table"] tbody tr:not([data-channel^="${prefix}"])`, min: 0, max: 0 },
      ],
    },
    {
      name: 'A channel (details, history)',
      path: `channels/${encodeURIComponent('bench:c0')}`,
      shown: [{ selector: '[data-testid="history"] li', min: 1 }],
    },
    { name: 'Users, first page', path: 'users', shown: [rows('users-table')] },
    { name: "A user's connections", path: `users/${user}`, shown: [rows('connections-table')] },
    { name: 'Documents, first page', path: 'docs', shown: [rows('doc-list')] },
    {
      name: 'A document (state, ops)',
      path: `docs/${encodeURIComponent(doc)}`,
      shown: [
        { selector: '[data-testid="json-tree"]', min: 1 },
        { selector: '[data-testid="doc-version"]', min: 1, not: '–' },
        { selector: '[data-testid="doc-ops"] tbody tr', min: 1 },
      ],
    },
    { name: 'App versions', path: 'versions', shown: [{ selector: '[data-testid="app-current"]', min: 1 }] },
    {
      name: 'Webhooks',
      path: 'webhooks',
      shown: [{ selector: '[data-testid="wh-none"], [data-testid="wh-pending"]', min: 1 }],
    },
  ];
}

/**
 * The console's pages in a real browser at size: the Syncline server in
 * its own process with `connections` idle connections held by the load
 * generators (each its own user, subscribed to its own channel, which has
 * a publication in its history), `docs` stored documents, and Chromium
 * signed in to the console. Every page is loaded `loads` times cold (a
 * fresh browser context: nothing cached) and `loads` times warm (the same
 * tab again), timed in the page from the navigation's start to its content
 * on screen. The same is measured first on a small server
 * ({@link BASELINE_SIZE} of each), so the table can tell what size costs
 * from what the machine costs.
 */
export async function runConsoleBrowser(o: ConsoleBrowserOptions, options: RunOptions): Promise<ConsoleBrowserResult> {
  // A server no larger than the baseline is its own baseline (the quick form measures one server).
  if (o.connections <= BASELINE_SIZE && o.docs <= BASELINE_SIZE) {
    const only = await measure(o, options);
    return { ...only, baseline: only.rows };
  }
  const small = await measure(
    { connections: Math.min(BASELINE_SIZE, o.connections), docs: Math.min(BASELINE_SIZE, o.docs), loads: o.loads },
    options,
  );
  const large = await measure(o, options);
  return { ...large, baseline: small.rows };
}

/** One server of the scenario: its setup, then every page timed. */
async function measure(o: ConsoleBrowserOptions, options: RunOptions): Promise<Omit<ConsoleBrowserResult, 'baseline'>> {
  options.log(`console browser: ${o.connections} connections and channels, ${o.docs} documents`);
  const rig = await Rig.start('syncline', { ...options, console: undefined }, { admin: true });
  let browser: Browser | undefined;
  try {
    const base = rig.url.replace(/^ws/, 'http').replace(/\/connect\/ws$/, '');
    const opened = await rig.open(o.connections, { kind: 'rooms', prefix: 'bench:c', size: 1 }, options, 200);
    if (opened.failed > 0) throw new Error(`console browser: ${opened.failed} connections failed: ${opened.error}`);
    options.log('console browser: publishing the channels’ history');
    // Payloads in the load generators' shape ({p, s, t}): publisher 1, one sequence per channel.
    await pool(
      Array.from({ length: o.connections }, (_, i) => i),
      32,
      (i) => call(base, 'POST', '/v1/publish', { channel: `bench:c${i}`, data: { p: 1, s: 1, t: Date.now() } }),
    );
    for (let s = 2; s <= BUSY_PUBLICATIONS; s++) {
      await call(base, 'POST', '/v1/publish', { channel: 'bench:c0', data: { p: 1, s, t: Date.now() } });
    }
    options.log('console browser: writing the documents');
    await pool(
      Array.from({ length: o.docs }, (_, i) => i),
      32,
      (i) => mutate(base, `bdoc:d${pad(i)}`, { k: 'a', t: i }),
    );
    for (let i = 1; i < BUSY_MUTATIONS; i++) {
      await mutate(base, `bdoc:d${pad(0)}`, { k: `k${i}`, t: i });
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
    const signIn = await browser.newContext({ viewport: VIEWPORT });
    const first = await signIn.newPage();
    await first.goto(`${base}/admin`);
    await first.getByLabel('Admin key').fill(BENCH_ADMIN_KEY);
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: READY_TIMEOUT_MS });
    const storageState = await signIn.storageState();
    await signIn.close();

    let assetBytes = 0;
    const load = async (page: import('playwright-core').Page, spec: PageSpec): Promise<number> => {
      await page.goto(`${base}/admin/${spec.path}`, { waitUntil: 'commit', timeout: READY_TIMEOUT_MS });
      const handle = await page
        .waitForFunction(readyAt, spec.shown, {
          polling: 'raf',
          timeout: READY_TIMEOUT_MS,
        })
        .catch((err: unknown) => {
          throw new Error(`console browser: ${spec.name} did not show its content in ${READY_TIMEOUT_MS} ms`, {
            cause: err,
          });
        });
      return (await handle.jsonValue()) as number;
    };

    const loadAtStart = loadavg()[0] ?? 0;
    const rows: ConsoleBrowserRow[] = [];
    const row = (spec: PageSpec, cache: 'cold' | 'warm', times: number[]): void => {
      const sorted = [...times].sort((a, b) => a - b);
      rows.push({
        page: spec.name,
        cache,
        median: percentile(sorted, 0.5),
        max: sorted.at(-1) ?? 0,
        loads: times.length,
      });
    };
    for (const spec of pages(o)) {
      options.log(`console browser: ${spec.name}`);
      const cold: number[] = [];
      for (let i = 0; i < o.loads; i++) {
        const ctx = await browser.newContext({ viewport: VIEWPORT, storageState });
        try {
          const page = await ctx.newPage();
          if (assetBytes === 0) {
            page.on('response', (res) => {
              if (/\/admin\/assets\//.test(res.url())) {
                void res.body().then(
                  (b) => {
                    assetBytes += b.length;
                  },
                  () => undefined,
                );
              }
            });
          }
          cold.push(await load(page, spec));
        } finally {
          await ctx.close();
        }
      }
      row(spec, 'cold', cold);
      const ctx = await browser.newContext({ viewport: VIEWPORT, storageState });
      try {
        const page = await ctx.newPage();
        await load(page, spec);
        const warm: number[] = [];
        for (let i = 0; i < o.loads; i++) warm.push(await load(page, spec));
        row(spec, 'warm', warm);
      } finally {
        await ctx.close();
      }
    }
    return { rows, assetBytes, loadAverage: [loadAtStart, loadavg()[0] ?? 0] };
  } finally {
    await browser?.close();
    await rig.stop();
  }
}

/** The scenario's table, against the 1 s target. */
export function consoleBrowserTable(r: ConsoleBrowserResult, o: ConsoleBrowserOptions): string {
  const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a');
  const pair = (rows: readonly ConsoleBrowserRow[]) => {
    const byPage = new Map<string, { cold?: ConsoleBrowserRow; warm?: ConsoleBrowserRow }>();
    for (const row of rows) byPage.set(row.page, { ...byPage.get(row.page), [row.cache]: row });
    return byPage;
  };
  const small = pair(r.baseline);
  const worst = Math.max(...r.rows.map((x) => x.max));
  const size = Math.min(BASELINE_SIZE, o.connections);
  return [
    `### Console pages in Chromium (${o.connections.toLocaleString('en')} connections and active channels, ${o.docs.toLocaleString('en')} documents, ${o.loads} cold and ${o.loads} warm loads of each page)`,
    '',
    `Time from the navigation's start to the page's content on screen (the page's data drawn, not a spinner). Target: under ${fmt(CONSOLE_PAGE_TARGET_MS)} ms. "Small" is the same page on a server with ${size} of each, measured just before in the same run: the ratio is what size costs, apart from the machine. The console's scripts and styles of a cold overview load: ${fmt(r.assetBytes / 1024)} KB (decoded). The machine's 1-minute load average: ${r.loadAverage[0].toFixed(1)} when the timed loads at size started, ${r.loadAverage[1].toFixed(1)} when they ended.`,
    '',
    '| page | cold median ms | cold max ms | warm median ms | warm max ms | small: cold / warm median ms | at size / small (cold, warm) | under 1 s |',
    '|---|---|---|---|---|---|---|---|',
    ...[...pair(r.rows)].map(([page, { cold, warm }]) => {
      const base = small.get(page);
      const max = Math.max(cold?.max ?? 0, warm?.max ?? 0);
      const ratio = (a: number | undefined, b: number | undefined) =>
        a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
      return `| ${page} | ${fmt(cold?.median ?? Number.NaN)} | ${fmt(cold?.max ?? Number.NaN)} | ${fmt(warm?.median ?? Number.NaN)} | ${fmt(warm?.max ?? Number.NaN)} | ${fmt(base?.cold?.median ?? Number.NaN)} / ${fmt(base?.warm?.median ?? Number.NaN)} | ${ratio(cold?.median, base?.cold?.median)}, ${ratio(warm?.median, base?.warm?.median)} | ${max < CONSOLE_PAGE_TARGET_MS ? 'yes' : 'no'} |`;
    }),
    '',
    `Slowest load of all at size: ${fmt(worst)} ms.`,
  ].join('\n');
}
