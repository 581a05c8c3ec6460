import type { ReceivedPublication, StateChange } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { client, connectedRawSocket, startServer, waitFor, waitState } from './helpers.js';

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
    await waitFor(() => got.length === 5);
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
    await waitFor(() => received.every((r) => r.length === 100), 10_000, 'all deliveries');
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
    await waitFor(() => (server.core.hub.counts().get('chat:gone') ?? 0) === 0, 5_000, 'hub cleanup');
  });

  it('batches messages of one tick into a JSON array frame', async () => {
    const server = await startServer();
    const raw = await connectedRawSocket(server, 'raw');
    const frames: string[] = [];
    raw.ws.on('message', (d) => frames.push(d.toString()));
    raw.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:batch' }));
    await raw.next((m) => m.id === 2);
    await Promise.all(Array.from({ length: 10 }, (_, i) => server.publish('chat:batch', i)));
    await waitFor(() => raw.messages.filter((m) => m.type === 'pub').length === 10);
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
    await waitFor(() => server.connectionCount === 0, 5_000, 'server-side close');
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
});
