import { type BenchConn, isSyncline, type PubHandler, received, type Target } from './clients/bench-conn.js';
import { SocketIoConn } from './clients/socketio-conn.js';
import { type BenchCodec, SynclineConn } from './clients/syncline-conn.js';
import { WsConn } from './clients/ws-conn.js';
import { nowMs, sleep } from './clock.js';
import { Histogram, type HistogramData } from './histogram.js';
import { serveRpc } from './ipc.js';
import { payloadJson } from './payload.js';
import { BENCH_SECRET } from './servers/bench-server.js';
import { type PublishedCounts, Tracker, type TrackerReport } from './tracker.js';

/** Which channels the connections of a load generator subscribe to. */
export type ChannelPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'one'; readonly channel: string }
  | { readonly kind: 'rooms'; readonly prefix: string; readonly size: number };

/** Result of opening or reopening connections. */
export interface OpenResult {
  readonly ms: number;
  readonly opened: number;
  readonly failed: number;
  readonly error?: string;
}

/** A publisher's run. */
export interface PublishResult {
  readonly published: PublishedCounts;
  readonly startAt: number;
  readonly endAt: number;
  readonly failed: number;
}

/** A documents run of one generator. */
export interface MutateResult {
  readonly acked: number;
  readonly failed: number;
  readonly startAt: number;
  readonly endAt: number;
  /** Mutation acknowledgement latency, µs. */
  readonly acks: HistogramData;
  /** Highest version acknowledged per document (as published counts: publisher 0). */
  readonly versions: PublishedCounts;
}

/** Tracker verdict plus this generator's own cost and what it received. */
export interface LoadgenReport extends TrackerReport {
  readonly cpuUs: number;
  /** WebSocket payload bytes received since the last mark (every frame). */
  readonly rxBytes: number;
}

const target = process.argv[2] as Target;
const url = process.argv[3] as string;
const codec: BenchCodec = target === 'syncline-msgpack' ? 'msgpack' : 'json';
const tracker = new Tracker();
const conns: BenchConn[] = [];
/** Channel of each connection (rooms plan), for chat publishers. */
const channelOf: string[] = [];
/** Global index of each local connection. */
const indexOf: number[] = [];
const seqs = new Map<number, number>();
/** Connections of the documents scenario. */
interface DocConn {
  readonly conn: SynclineConn;
  readonly doc: string;
  readonly clientId: string;
}
const docConns: DocConn[] = [];
const published: PublishedCounts = {};
let cpuMark = process.cpuUsage();

function makeConn(token: string, onPub: PubHandler): BenchConn {
  if (isSyncline(target)) return new SynclineConn(url, token, onPub, codec);
  if (target === 'ws') return new WsConn(url, onPub);
  return new SocketIoConn(url, onPub);
}

/** Runs `fn` over `items` with at most `limit` in flight; counts failures. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<{ failed: number; error?: string }> {
  let next = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed++;
        error ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return error === undefined ? { failed } : { failed, error };
}

function count(channel: string, publisher: number): number {
  const seq = (seqs.get(publisher) ?? 0) + 1;
  seqs.set(publisher, seq);
  const byPub = published[channel] ?? {};
  byPub[String(publisher)] = seq;
  published[channel] = byPub;
  return seq;
}

async function tokens(from: number, n: number): Promise<string[]> {
  if (!isSyncline(target)) return new Array<string>(n).fill('');
  const { signToken } = await import('@syncline/server');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await signToken(BENCH_SECRET, {
        sub: `u${from + i}`,
        caps: [
          { match: 'bench:*', allow: ['*'] },
          { match: 'bdoc:*', allow: ['*'] },
        ],
        ttlSec: 6 * 3600,
      }),
    );
  }
  return out;
}

serveRpc({
  async open(params: { from: number; count: number; plan: ChannelPlan; concurrency: number }): Promise<OpenResult> {
    const toks = await tokens(params.from, params.count);
    const start = nowMs();
    const items = Array.from({ length: params.count }, (_, i) => i);
    const r = await pool(items, params.concurrency, async (i) => {
      const idx = params.from + i;
      const plan = params.plan;
      const channel =
        plan.kind === 'one'
          ? plan.channel
          : plan.kind === 'rooms'
            ? `${plan.prefix}${Math.floor(idx / plan.size)}`
            : '';
      const sub = channel === '' ? -1 : tracker.addSubscription(channel);
      const conn = makeConn(toks[i] as string, (_ch, data, recovered) => tracker.deliver(sub, data, recovered));
      await conn.open();
      if (channel !== '') await conn.subscribe(channel);
      conns.push(conn);
      channelOf.push(channel);
      indexOf.push(idx);
    });
    return { ms: nowMs() - start, opened: params.count - r.failed, ...r };
  },

  async waitComplete(params: { published: PublishedCounts; timeoutMs: number }) {
    const want = tracker.expectedUnique(params.published);
    const doneAt = await tracker.whenUnique(want, params.timeoutMs);
    return { doneAt: doneAt ?? null, unique: tracker.unique, want };
  },

  mark(): null {
    cpuMark = process.cpuUsage();
    received.bytes = 0;
    tracker.report({});
    return null;
  },

  report(params: { published: PublishedCounts }): LoadgenReport {
    const cpu = process.cpuUsage(cpuMark);
    return { ...tracker.report(params.published), cpuUs: cpu.user + cpu.system, rxBytes: received.bytes };
  },

  async publish(params: {
    channel: string;
    publisher: number;
    count: number;
    mode: 'burst' | 'paced';
    ratePerSec: number;
    window: number;
  }): Promise<PublishResult> {
    const conn = conns[0] as BenchConn;
    const startAt = nowMs();
    let failed = 0;
    const one = (): Promise<void> =>
      conn.publish(params.channel, payloadJson(params.publisher, count(params.channel, params.publisher))).catch(() => {
        failed++;
      });
    if (params.mode === 'burst') {
      let sent = 0;
      const lane = async (): Promise<void> => {
        while (sent < params.count) {
          sent++;
          await one();
        }
      };
      await Promise.all(Array.from({ length: params.window }, lane));
    } else {
      const interval = 1000 / params.ratePerSec;
      const acks: Promise<void>[] = [];
      for (let i = 0; i < params.count; i++) {
        const due = startAt + i * interval;
        const wait = due - nowMs();
        if (wait > 0) await sleep(wait);
        acks.push(one());
      }
      await Promise.all(acks);
    }
    return { published: structuredClone(published), startAt, endAt: nowMs(), failed };
  },

  async chat(params: { durationMs: number; intervalMs: number }): Promise<PublishResult> {
    const startAt = nowMs();
    const end = startAt + params.durationMs;
    let failed = 0;
    await Promise.all(
      conns.map(async (conn, i) => {
        const channel = channelOf[i] as string;
        const publisher = (indexOf[i] as number) + 1;
        // Random phase so publishers spread over the interval.
        await sleep(Math.random() * params.intervalMs);
        while (nowMs() < end) {
          const next = nowMs() + params.intervalMs;
          await conn.publish(channel, payloadJson(publisher, count(channel, publisher))).catch(() => {
            failed++;
          });
          const wait = next - nowMs();
          if (wait > 0) await sleep(wait);
        }
      }),
    );
    return { published: structuredClone(published), startAt, endAt: nowMs(), failed };
  },

  async openDocs(params: { from: number; count: number; docs: number; concurrency: number }): Promise<OpenResult> {
    const toks = await tokens(params.from, params.count);
    const start = nowMs();
    const items = Array.from({ length: params.count }, (_, i) => i);
    const r = await pool(items, params.concurrency, async (i) => {
      const idx = params.from + i;
      const doc = `bdoc:d${idx % params.docs}`;
      const sub = tracker.addSubscription(doc);
      const conn = new SynclineConn(url, toks[i] as string, () => undefined, codec);
      // Versions are consecutive per document: the tracker checks every patch arrives once, in order.
      conn.onDocPatch = (_doc, version, patches) =>
        tracker.deliver(sub, { p: 0, s: version, t: patches[0]?.value ?? nowMs() }, false);
      await conn.open();
      await conn.docSubscribe(doc, `c${idx}-bench`);
      docConns.push({ conn, doc, clientId: `c${idx}-bench` });
    });
    return { ms: nowMs() - start, opened: params.count - r.failed, ...r };
  },

  async mutateRun(params: { durationMs: number; intervalMs: number; window: number }): Promise<MutateResult> {
    const acks = new Histogram();
    const versions: PublishedCounts = {};
    let acked = 0;
    let failed = 0;
    const startAt = nowMs();
    const end = startAt + params.durationMs;
    const one = async (d: DocConn): Promise<void> => {
      const t = nowMs();
      try {
        const v = await d.conn.mutate(d.doc, d.clientId, 'stamp', `{"k":"${d.clientId}","t":${t}}`);
        acks.record((nowMs() - t) * 1000);
        acked++;
        const byDoc = versions[d.doc] ?? { 0: 0 };
        if (v > (byDoc[0] ?? 0)) byDoc[0] = v;
        versions[d.doc] = byDoc;
      } catch {
        failed++;
      }
    };
    const inflight: Promise<void>[] = [];
    await Promise.all(
      docConns.map(async (d) => {
        if (params.intervalMs > 0) {
          await sleep(Math.random() * params.intervalMs);
          while (nowMs() < end) {
            const next = nowMs() + params.intervalMs;
            inflight.push(one(d));
            const wait = next - nowMs();
            if (wait > 0) await sleep(wait);
          }
        } else {
          // Sequential lanes per connection (each mutation is one round trip).
          const lane = async (): Promise<void> => {
            while (nowMs() < end) await one(d);
          };
          await Promise.all(Array.from({ length: params.window }, lane));
        }
      }),
    );
    await Promise.all(inflight);
    return { acked, failed, startAt, endAt: nowMs(), acks: acks.toJSON(), versions };
  },

  drop(): null {
    for (const c of conns) c.terminate();
    return null;
  },

  async reopen(params: { concurrency: number }): Promise<OpenResult> {
    const start = nowMs();
    const r = await pool(conns, params.concurrency, (c) => c.reopen());
    return { ms: nowMs() - start, opened: conns.length - r.failed, ...r };
  },

  close(): null {
    for (const c of conns) c.close();
    for (const d of docConns) d.conn.close();
    return null;
  },
});
