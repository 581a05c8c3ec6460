import { backoffDelay, type ReceivedPublication, type StateChange } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { client, connectedRawSocket, describeValue, startServer, waitFor, waitForValue, waitState } from './helpers.js';

describe('round trip', () => {
  it('subscribes, publishes from another client and receives with increasing offsets', async () => {
    const server = await startServer();
    const a = await client(server, 'alice');
    const b = await client(server, 'bob');
    const got: ReceivedPublication[] = [];
    const sub = a.subscribe('chat:room-1', { onPublication: (p) => got.push(p) });
    await sub.ready;
    expect(sub.state).toBe('subscribed');
    await waitState(b, 'connected');
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await b.publish('chat:room-1', { text: `m${i}` }));
    expect(results.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
    await waitForValue(() => got.map((p) => p.offset), [1, 2, 3, 4, 5], 5_000, 'offsets');
    expect(got.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((p) => p.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ text: `m${i}` })));
    expect(got.every((p) => p.user === 'bob' && p.channel === 'chat:room-1' && typeof p.ts === 'number')).toBe(true);
    expect(sub.position).toEqual({ epoch: results[0]?.epoch, offset: 5 });
  });

  it('fans out to every subscriber, in offset order, under concurrent publishers', async () => {
    const server = await startServer({ limits: { publishRatePerSec: 10_000, publishBurst: 10_000 } });
    const subscribers = await Promise.all(['s1', 's2', 's3'].map((u) => client(server, u)));
    const received = subscribers.map(() => [] as number[]);
    await Promise.all(
      subscribers.map((c, i) => c.subscribe('chat:fan', { onPublication: (p) => received[i]?.push(p.offset) }).ready),
    );
    const publishers = await Promise.all(['p1', 'p2'].map((u) => client(server, u)));
    const offsets = await Promise.all(
      publishers.flatMap((p, j) => Array.from({ length: 50 }, (_, i) => p.publish('chat:fan', { j, i }))),
    );
    expect(offsets.map((o) => o.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await waitFor(
      () => received.every((r) => r.length === 100),
      10_000,
      () => `wanted offsets 1-100 at every subscriber, saw ${received.map((r) => describeValue(r)).join('; ')}`,
    );
    for (const r of received) expect(r).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('delivers nothing to clients that are not, or no longer, subscribed', async () => {
    const server = await startServer();
    const raw = await connectedRawSocket(server, 'raw');
    raw.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:gone' }));
    raw.send(JSON.stringify({ type: 'subscribe', id: 3, channel: 'chat:sentinel' }));
    await raw.next((m) => m.id === 2 && m.type === 'reply');
    await raw.next((m) => m.id === 3 && m.type === 'reply');
    raw.send(JSON.stringify({ type: 'unsubscribe', id: 4, channel: 'chat:gone' }));
    expect(await raw.next((m) => m.id === 4)).toMatchObject({ type: 'reply', result: {} });

    const bystander = await client(server, 'carol');
    const bystanderGot: ReceivedPublication[] = [];
    bystander.subscribe('chat:other', { onPublication: (p) => bystanderGot.push(p) });
    const leaver = await client(server, 'dave');
    const leaverGot: ReceivedPublication[] = [];
    const leaving = leaver.subscribe('chat:gone', { onPublication: (p) => leaverGot.push(p) });
    await leaving.ready;
    leaving.unsubscribe();
    expect(leaving.state).toBe('unsubscribed');

    const pub = await client(server, 'bob');
    await pub.publish('chat:gone', 'after-unsubscribe');
    await pub.publish('chat:sentinel', 'sentinel');
    await raw.next((m) => m.type === 'pub' && m.channel === 'chat:sentinel');
    expect(raw.messages.filter((m) => m.type === 'pub' && m.channel === 'chat:gone')).toEqual([]);
    expect(leaverGot).toEqual([]);
    expect(bystanderGot).toEqual([]);
    // The server no longer holds the unsubscribed connection for that channel.
    await waitForValue(
      () => server.channels.localCounts().get('chat:gone') ?? 0,
      0,
      5_000,
      'hub subscribers of chat:gone',
    );
  });

  it('batches messages of one tick into a JSON array frame', async () => {
    const server = await startServer();
    const raw = await connectedRawSocket(server, 'raw');
    const frames: string[] = [];
    raw.ws.on('message', (d) => frames.push(d.toString()));
    raw.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:batch' }));
    await raw.next((m) => m.id === 2);
    await Promise.all(Array.from({ length: 10 }, (_, i) => server.publish('chat:batch', i)));
    await waitForValue(
      () => raw.messages.filter((m) => m.type === 'pub').map((m) => m.offset),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      5_000,
      'pub offsets',
    );
    expect(frames.some((f) => f.startsWith('['))).toBe(true);
    expect(raw.messages.filter((m) => m.type === 'pub').map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Commands may be batched too; replies come back with their ids.
    raw.send(
      JSON.stringify([
        { type: 'publish', id: 10, channel: 'chat:batch', data: 'x' },
        { type: 'history', id: 11, channel: 'chat:batch', since: 9 },
      ]),
    );
    expect(await raw.next((m) => m.id === 10)).toMatchObject({ type: 'reply', result: { offset: 11 } });
    const hist = await raw.next((m) => m.id === 11);
    expect(hist.type).toBe('reply');
  });

  it('reports every state transition with a reason and closes cleanly', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', { autoConnect: false });
    const changes: StateChange[] = [];
    c.on('state', (e) => changes.push(e));
    expect(c.state).toBe('disconnected');
    c.connect();
    await waitState(c, 'connected');
    expect(c.info?.user).toBe('alice');
    c.close();
    expect(c.state).toBe('closed');
    expect(changes.map((e) => [e.previous, e.state, e.reason])).toEqual([
      ['disconnected', 'connecting', 'connect_called'],
      ['connecting', 'connected', 'connected'],
      ['connected', 'closed', 'client_closed'],
    ]);
    await expect(c.publish('chat:x', 1)).rejects.toMatchObject({ code: 'client_closed' });
    await waitForValue(() => server.connectionCount, 0, 5_000, 'server connections');
  });

  it('reads history with since and limit', async () => {
    const server = await startServer();
    const c = await client(server, 'alice');
    for (let i = 1; i <= 5; i++) await c.publish('chat:h', i);
    const all = await c.history('chat:h');
    expect(all.publications.map((p) => p.data)).toEqual([1, 2, 3, 4, 5]);
    expect(all).toMatchObject({ offset: 5, minOffset: 1 });
    const page = await c.history('chat:h', { since: 2, limit: 2 });
    expect(page.publications.map((p) => p.offset)).toEqual([3, 4]);
  });

  it('lets a channel be unsubscribed before its subscribe reply and subscribed again', async () => {
    const server = await startServer();
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    const first = c.subscribe('chat:flip');
    const firstErrors: unknown[] = [];
    first.on('error', (e) => firstErrors.push(e));
    first.unsubscribe();
    const got: unknown[] = [];
    const second = c.subscribe('chat:flip', { onPublication: (p) => got.push(p.data) });
    expect(second).not.toBe(first);
    await second.ready;
    await server.publish('chat:flip', 'once');
    await waitForValue(() => got, ['once'], 5_000, 'publications');
    second.unsubscribe();
    await waitForValue(
      () => server.channels.localCounts().get('chat:flip') ?? 0,
      0,
      5_000,
      'hub subscribers of chat:flip',
    );
    // A subscription cancelled in flight leaves nothing behind on the server either.
    const third = c.subscribe('chat:flop');
    third.unsubscribe();
    await c.history('chat:flop');
    await waitForValue(
      () => server.channels.localCounts().get('chat:flop') ?? 0,
      0,
      5_000,
      'hub subscribers of chat:flop',
    );
    expect(firstErrors).toEqual([]);
    expect(got).toEqual(['once']);
  });

  it('reconnects at once when the browser reports it is online again', async () => {
    const server = await startServer();
    const port = server.port;
    const listeners = new Map<string, () => void>();
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    const saved = { add: g.addEventListener, remove: g.removeEventListener };
    g.addEventListener = (type: string, l: () => void) => listeners.set(type, l);
    g.removeEventListener = (type: string) => listeners.delete(type);
    try {
      // Backoff long enough that only the online event can explain a quick reconnect. The state
      // machine is the same for every transport; one failed HTTP attempt would wait out the backoff.
      const c = await client(server, 'alice', {
        transports: ['websocket'],
        reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
      });
      await waitState(c, 'connected');
      listeners.get('offline')?.();
      expect(c.state).toBe('disconnected');
      listeners.get('online')?.();
      await waitState(c, 'connected');
      const changes: StateChange[] = [];
      c.on('state', (e) => changes.push(e));
      await server.close();
      await waitForValue(() => c.state, 'disconnected', 5_000, 'client state');
      const again = await startServer({ port });
      listeners.get('online')?.();
      await waitState(c, 'connected');
      expect(changes.map((e) => e.reason)).toEqual(['server_disconnect', 'online', 'connected']);
      expect(again.connectionCount).toBe(1);
    } finally {
      g.addEventListener = saved.add;
      g.removeEventListener = saved.remove;
    }
  });

  it('backs off exponentially with full jitter', () => {
    const opts = { minDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
    expect(backoffDelay(3, opts, () => 0.999)).toBe(799);
    expect(backoffDelay(10, opts, () => 0.999)).toBe(999);
    // The first attempt may go at once; later ones wait at least 50 ms (never above the maximum).
    expect(backoffDelay(0, opts, () => 0)).toBe(0);
    expect(backoffDelay(10, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, { minDelayMs: 1, maxDelayMs: 20 }, () => 0)).toBe(20);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
