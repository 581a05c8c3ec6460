import { PROTOCOL_VERSION } from '@syncline/protocol';
import { signToken } from '@syncline/server';
import WebSocket from 'ws';
import { Rig, type RunOptions } from '../harness.js';
import { BENCH_API_KEY, BENCH_SECRET } from '../servers/bench-server.js';

/** Sizes of the console scenario. */
export interface ConsoleOptions {
  /** Active channels (subscribed) and stored documents. */
  readonly size: number;
  /** Requests per route. */
  readonly requests: number;
}

/** One route's answer times (ms) and answer size. */
export interface ConsoleRow {
  readonly route: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly bytes: number;
}

/** Subscriptions per connection (the server's `maxChannelsPerConnection` in the bench). */
const PER_CONNECTION = 5_000;
/** Publications in the channel whose history is read backwards. */
const HISTORY_PUBLICATIONS = 1_000;

function name(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(6, '0')}`;
}

/** A raw connection subscribed to `channels` (100 commands a frame); resolves once all are answered. */
async function subscribed(url: string, channels: readonly string[]): Promise<WebSocket> {
  const token = await signToken(BENCH_SECRET, { sub: 'console', caps: [{ match: 'bench:*', allow: ['*'] }] });
  const ws = new WebSocket(url, ['syncline.json']);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let answered = 0;
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (raw) => {
      const parsed = JSON.parse(raw.toString()) as unknown;
      for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ type?: string; id?: number }>) {
        if (m.type === 'error') reject(new Error(`console bench: refused: ${JSON.stringify(m)}`));
        if (typeof m.id === 'number' && m.id >= 10 && ++answered === channels.length) resolve();
      }
    });
  });
  ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token }));
  for (let i = 0; i < channels.length; i += 100) {
    ws.send(
      JSON.stringify(channels.slice(i, i + 100).map((channel, j) => ({ type: 'subscribe', id: 10 + i + j, channel }))),
    );
  }
  await done;
  return ws;
}

/** Calls the benchmark server's HTTP API with its key; throws on a non-2xx answer. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<string> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`console bench: ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The `q` quantile (0..1) of ascending `sorted` values (0 for none). */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * The pages an operator console loads, on the embedded Syncline server in
 * its own process: `size` active channels (subscribed over a few
 * connections) and `size` stored documents, then `requests` sequential calls
 * of each route from this process, timed from request to the whole answer.
 */
export async function runConsole(o: ConsoleOptions, options: RunOptions): Promise<ConsoleRow[]> {
  options.log(`console pages: ${o.size} channels and ${o.size} documents`);
  const rig = await Rig.start('syncline', options);
  const sockets: WebSocket[] = [];
  try {
    const base = rig.url.replace(/^ws/, 'http').replace(/\/connect\/ws$/, '');
    const channels = Array.from({ length: o.size }, (_, i) => name('bench:c', i));
    for (let i = 0; i < channels.length; i += PER_CONNECTION) {
      sockets.push(await subscribed(rig.url, channels.slice(i, i + PER_CONNECTION)));
    }
    const docs = Array.from({ length: o.size }, (_, i) => name('bdoc:d', i));
    await pool(docs, 32, (doc) =>
      call(base, 'POST', `/v1/docs/${doc}/mutate`, { name: 'stamp', args: { k: 'a', t: 1 } }),
    );
    const busy = channels[0] as string;
    await pool(
      Array.from({ length: HISTORY_PUBLICATIONS }, (_, i) => i),
      32,
      (i) => call(base, 'POST', '/v1/publish', { channel: busy, data: { i } }),
    );
    const late = Math.floor(o.size * 0.9);
    const routes: Array<[string, string]> = [
      ['channels, first page of 1,000', '/v1/channels?limit=1000'],
      ['channels, a page at 90 %', `/v1/channels?limit=1000&after=${channels[late]}`],
      ['channel detail', `/v1/channels/${busy}`],
      ['history backwards, 100', `/v1/channels/${busy}/history?before=501&limit=100`],
      ['documents, first page of 1,000', '/v1/docs?limit=1000'],
      ['documents, a page at 90 %', `/v1/docs?limit=1000&after=${docs[late]}`],
      ['document detail', `/v1/docs/${docs[late]}`],
      ['document ops, 20', `/v1/docs/${docs[late]}/ops?limit=20`],
    ];
    const rows: ConsoleRow[] = [];
    for (const [route, path] of routes) {
      await call(base, 'GET', path);
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < o.requests; i++) {
        const t0 = performance.now();
        bytes = Buffer.byteLength(await call(base, 'GET', path));
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      rows.push({ route, p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1) ?? 0, bytes });
    }
    return rows;
  } finally {
    for (const ws of sockets) ws.terminate();
    await rig.stop();
  }
}

/** The console scenario's table. */
export function consoleTable(rows: readonly ConsoleRow[], o: ConsoleOptions): string {
  const fmt = (n: number) => n.toFixed(1);
  return [
    `### Console pages (${o.size.toLocaleString('en')} channels, ${o.size.toLocaleString('en')} documents, ${o.requests} requests each)`,
    '',
    '| route | p50 ms | p99 ms | max ms | answer bytes |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.route} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.bytes.toLocaleString('en')} |`,
    ),
  ].join('\n');
}
