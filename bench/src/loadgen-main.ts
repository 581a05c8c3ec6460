import type { BenchConn, PubHandler, Target } from './clients/bench-conn.js';
import { SocketIoConn } from './clients/socketio-conn.js';
import { SynclineConn } from './clients/syncline-conn.js';
import { WsConn } from './clients/ws-conn.js';
import { nowMs, sleep } from './clock.js';
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

/** Tracker verdict plus this generator's own cost. */
export interface LoadgenReport extends TrackerReport {
  readonly cpuUs: number;
}

const target = process.argv[2] as Target;
const url = process.argv[3] as string;
const tracker = new Tracker();
const conns: BenchConn[] = [];
/** Channel of each connection (rooms plan), for chat publishers. */
const channelOf: string[] = [];
/** Global index of each local connection. */
const indexOf: number[] = [];
const seqs = new Map<number, number>();
const published: PublishedCounts = {};
let cpuMark = process.cpuUsage();

function makeConn(token: string, onPub: PubHandler): BenchConn {
  if (target === 'syncline') return new SynclineConn(url, token, onPub);
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
  if (target !== 'syncline') return new Array<string>(n).fill('');
  const { signToken } = await import('@syncline/server');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await signToken(BENCH_SECRET, {
        sub: `u${from + i}`,
        caps: [{ match: 'bench:*', allow: ['*'] }],
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
    tracker.report({});
    return null;
  },

  report(params: { published: PublishedCounts }): LoadgenReport {
    const cpu = process.cpuUsage(cpuMark);
    return { ...tracker.report(params.published), cpuUs: cpu.user + cpu.system };
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
    return null;
  },
});
