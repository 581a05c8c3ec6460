import type { Socket } from 'node:net';
import {
  type ClientOptions,
  type SubscribedEvent,
  type SynclineClient,
  type TransportFactory,
  websocketTransport,
} from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, startServer, tempDir, waitFor, waitForValue, waitState } from './helpers.js';

const FAST = { publishRatePerSec: 100_000, publishBurst: 100_000 };
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A client transport that can be held shut (reconnects wait until released)
 * and that exposes the client's sockets so a test can cut them.
 */
function controlledTransport(): {
  factory: TransportFactory;
  sockets: WebSocket[];
  hold(): void;
  release(): void;
} {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const inner = websocketTransport(TrackedWebSocket as unknown as NonNullable<ClientOptions['WebSocket']>);
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  return {
    sockets,
    factory: async (url, events, codec) => {
      await gate;
      return inner(url, events, codec);
    },
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      open();
    },
  };
}

/** Server-side TCP sockets by remote port, to cut a connection from the server's end. */
function serverSockets(server: SynclineServer): Map<number, Socket> {
  const map = new Map<number, Socket>();
  server.httpServer.on('connection', (s: Socket) => {
    if (s.remotePort !== undefined) map.set(s.remotePort, s);
  });
  return map;
}

function localPort(ws: WebSocket | undefined): number {
  const s = (ws as unknown as { _socket?: Socket } | undefined)?._socket;
  if (s?.localPort === undefined) throw new Error('socket not open');
  return s.localPort;
}

interface Tracked {
  offsets: number[];
  recovered: boolean[];
}

function track(c: SynclineClient, channel: string, options: { since?: { epoch: string; offset: number } } = {}) {
  const t: Tracked = { offsets: [], recovered: [] };
  const sub = c.subscribe(channel, {
    ...options,
    onPublication: (p) => t.offsets.push(p.offset),
    onRecovered: (ok: boolean, _e: SubscribedEvent) => t.recovered.push(ok),
  });
  return { sub, t };
}

async function publishMany(c: SynclineClient, channel: string, n: number): Promise<void> {
  // Sequential batches keep the publisher's own order obvious.
  for (let i = 0; i < n; i += 50) {
    await Promise.all(range(i, Math.min(n, i + 50) - 1).map((k) => c.publish(channel, { k })));
  }
}

type Cut = 'server' | 'client';

async function scenario(cut: Cut, channel: string) {
  const server = await startServer({ limits: FAST });
  const sockets = serverSockets(server);
  const ctl = controlledTransport();
  const subscriber = await client(server, 'sub', { transport: ctl.factory });
  const publisher = await client(server, 'pub');
  const { sub, t } = track(subscriber, channel);
  await sub.ready;
  await publishMany(publisher, channel, 3);
  await waitForValue(() => t.offsets, [1, 2, 3], 5_000, 'offsets');

  ctl.hold();
  const ws = ctl.sockets.at(-1);
  if (cut === 'server') sockets.get(localPort(ws))?.destroy();
  else ws?.terminate();
  await waitFor(
    () => subscriber.state !== 'connected',
    5_000,
    () => `wanted the subscriber to notice the cut, saw client state ${subscriber.state}`,
  );
  await waitForValue(() => server.connectionCount, 1, 5_000, 'server connections (cut session dropped)');
  await publishMany(publisher, channel, 200);
  ctl.release();
  await waitState(subscriber, 'connected');
  return { server, subscriber, publisher, sub, t };
}

describe('recovery', () => {
  for (const cut of ['server', 'client'] as const) {
    it(`recovers 200 publications exactly once, in order, after a ${cut}-side cut`, async () => {
      const { t, sub, publisher } = await scenario(cut, 'chat:recover');
      await waitForValue(() => t.offsets, range(1, 203), 10_000, 'recovered offsets');
      await publisher.publish('chat:recover', 'live');
      await waitForValue(() => t.offsets, range(1, 204), 5_000, 'offsets after a live publication');
      expect(t.offsets).toEqual(range(1, 204));
      expect(t.recovered).toEqual([true]);
      expect(sub.state).toBe('subscribed');
      expect(sub.position?.offset).toBe(204);
    });

    it(`reports recovered: false and delivers no partial gap when history is too short (${cut}-side cut)`, async () => {
      const { t, sub, publisher } = await scenario(cut, 'small:recover');
      await waitForValue(() => t.recovered, [false], 10_000, 'recovery verdicts');
      expect(t.recovered).toEqual([false]);
      expect(sub.position?.offset).toBe(203);
      await publisher.publish('small:recover', 'live');
      await waitForValue(() => t.offsets, [1, 2, 3, 204], 5_000, 'offsets');
      expect(t.offsets).toEqual([1, 2, 3, 204]);
    });
  }

  it('keeps history, offsets and epoch across a server restart on the same data dir', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, limits: FAST });
    const ctl = controlledTransport();
    const subscriber = await client(first, 'sub', { transport: ctl.factory });
    const { sub, t } = track(subscriber, 'chat:durable');
    await sub.ready;
    const before = await first.publish('chat:durable', 'one');
    await first.publish('chat:durable', 'two');
    await waitForValue(() => t.offsets, [1, 2], 5_000, 'offsets');

    ctl.hold();
    await first.close();
    await waitFor(
      () => subscriber.state !== 'connected',
      5_000,
      () => `wanted the subscriber to see the shutdown, saw client state ${subscriber.state}`,
    );
    const second = await startServer({ dataDir, port: first.port, limits: FAST });
    const after = await second.publish('chat:durable', 'three');
    expect(after).toMatchObject({ offset: 3, epoch: before.epoch, duplicate: false });
    for (let i = 0; i < 20; i++) await second.publish('chat:durable', i);
    ctl.release();
    await waitForValue(() => t.offsets, range(1, 23), 10_000, 'offsets recovered after the restart');
    expect(t.offsets).toEqual(range(1, 23));
    expect(t.recovered).toEqual([true]);

    const c = await client(second, 'reader');
    const h = await c.history('chat:durable', { limit: 3 });
    expect(h.epoch).toBe(before.epoch);
    expect(h.publications.map((p) => p.data)).toEqual(['one', 'two', 'three']);
  });

  it('recovers from a position the app kept (subscribe option since)', async () => {
    const server = await startServer();
    const first = await client(server, 'a');
    const r = await Promise.all(range(1, 10).map((i) => first.publish('chat:kept', i)));
    const epoch = r[0]?.epoch as string;
    const later = await client(server, 'b');
    const { sub, t } = track(later, 'chat:kept', { since: { epoch, offset: 4 } });
    await sub.ready;
    expect(t.recovered).toEqual([true]);
    expect(t.offsets).toEqual(range(5, 10));

    const other = await client(server, 'c');
    const wrong = track(other, 'chat:kept', { since: { epoch: 'another-epoch', offset: 4 } });
    await wrong.sub.ready;
    expect(wrong.t.recovered).toEqual([false]);
    expect(wrong.t.offsets).toEqual([]);
    expect(wrong.sub.position).toEqual({ epoch, offset: 10 });

    const ahead = track(await client(server, 'd'), 'chat:kept', { since: { epoch, offset: 99 } });
    await ahead.sub.ready;
    expect(ahead.t.recovered).toEqual([false]);
  });

  it('reports recovered: false when the namespace disables recovery or the history expired', async () => {
    const server = await startServer({
      namespaces: {
        norec: { recover: false },
        brief: { history: { size: 100, ttlMs: 150 } },
      },
    });
    const c = await client(server, 'a');
    const p1 = await c.publish('norec:x', 1);
    await c.publish('norec:x', 2);
    const a = track(await client(server, 'b'), 'norec:x', { since: { epoch: p1.epoch, offset: 1 } });
    await a.sub.ready;
    expect(a.t.recovered).toEqual([false]);
    expect(a.t.offsets).toEqual([]);

    const q1 = await c.publish('brief:x', 1);
    const publishedAt = Date.now();
    await c.publish('brief:x', 2);
    await waitFor(() => Date.now() > publishedAt + 300, 5_000, 'ttl to pass');
    const h = await c.history('brief:x');
    expect(h.publications).toEqual([]);
    expect(h.offset).toBe(2);
    const b = track(await client(server, 'c'), 'brief:x', { since: { epoch: q1.epoch, offset: 1 } });
    await b.sub.ready;
    expect(b.t.recovered).toEqual([false]);
    expect(b.t.offsets).toEqual([]);
    // Nothing was missed: recovery succeeds even though the history expired.
    const d = track(await client(server, 'd'), 'brief:x', { since: { epoch: q1.epoch, offset: 2 } });
    await d.sub.ready;
    expect(d.t.recovered).toEqual([true]);
  });
});
