import type { Socket } from 'node:net';
import { type ClientOptions, type ReceivedPublication, websocketTransport } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, connectedRawSocket, startServer, waitFor, waitForValue, waitState } from './helpers.js';

describe('idempotent publish', () => {
  it('publishes once when the same key is sent twice', async () => {
    const server = await startServer();
    const sub = await client(server, 'reader');
    const got: ReceivedPublication[] = [];
    await sub.subscribe('chat:idem', { onPublication: (p) => got.push(p) }).ready;
    const c = await client(server, 'alice');
    const first = await c.publish('chat:idem', { n: 1 }, { id: 'msg-1' });
    const second = await c.publish('chat:idem', { n: 1 }, { key: 'msg-1' });
    expect(first.duplicate).toBeUndefined();
    expect(second).toEqual({ offset: first.offset, epoch: first.epoch, duplicate: true });
    await c.publish('chat:idem', 'sentinel');
    await waitForValue(() => got.map((p) => p.data), [{ n: 1 }, 'sentinel'], 5_000, 'publication data');
    expect(got.map((p) => p.data)).toEqual([{ n: 1 }, 'sentinel']);
    const h = await c.history('chat:idem');
    expect(h.publications).toHaveLength(2);
  });

  it('dedupes the same key inside one batched frame and across connections of the user', async () => {
    const server = await startServer();
    const raw = await connectedRawSocket(server, 'alice');
    raw.send(
      JSON.stringify([
        { type: 'publish', id: 2, channel: 'chat:batch', data: 'a', key: 'k' },
        { type: 'publish', id: 3, channel: 'chat:batch', data: 'a', key: 'k' },
      ]),
    );
    const r2 = await raw.next((m) => m.id === 2);
    const r3 = await raw.next((m) => m.id === 3);
    expect(r2).toMatchObject({ type: 'reply', result: { offset: 1 } });
    expect(r3).toMatchObject({ type: 'reply', result: { offset: 1, duplicate: true } });

    // A resend from a new connection of the same user (reply lost) is a duplicate too.
    const again = await connectedRawSocket(server, 'alice');
    again.send(JSON.stringify({ type: 'publish', id: 2, channel: 'chat:batch', data: 'a', key: 'k' }));
    expect(await again.next((m) => m.id === 2)).toMatchObject({ result: { offset: 1, duplicate: true } });

    // Keys are scoped to the publishing user and to the server.
    const bob = await client(server, 'bob');
    expect(await bob.publish('chat:batch', 'b', { key: 'k' })).toMatchObject({ offset: 2 });
    expect(await server.publish('chat:batch', 's', { key: 'k' })).toMatchObject({ offset: 3, duplicate: false });
    expect(await server.publish('chat:batch', 's', { key: 'k' })).toMatchObject({ offset: 3, duplicate: true });
    expect((await bob.history('chat:batch')).publications.map((p) => p.data)).toEqual(['a', 'b', 's']);
  });

  it('resends a publish whose reply was lost and resolves with the original offset', async () => {
    const sockets: WebSocket[] = [];
    class Tracked extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const serverSide = new Map<number, Socket>();
    let cut = true;
    const server = await startServer({
      hooks: {
        // The publication is stored; cut the TCP connection before its reply goes out.
        afterPublish: ({ user }) => {
          if (!cut || user !== 'alice') return;
          cut = false;
          const local = (sockets[0] as unknown as { _socket: Socket })._socket.localPort ?? -1;
          serverSide.get(local)?.destroy();
        },
      },
    });
    server.httpServer.on('connection', (s: Socket) => {
      if (s.remotePort !== undefined) serverSide.set(s.remotePort, s);
    });
    const c = await client(server, 'alice', {
      transport: websocketTransport(Tracked as unknown as NonNullable<ClientOptions['WebSocket']>),
    });
    await waitState(c, 'connected');
    const result = await c.publish('chat:lost', 'once');
    expect(cut).toBe(false);
    expect(sockets.length).toBe(2);
    expect(result).toMatchObject({ offset: 1, duplicate: true });
    const reader = await client(server, 'reader');
    expect((await reader.history('chat:lost')).publications.map((p) => p.data)).toEqual(['once']);
  });

  it('accepts a key again once its publication left the history window', async () => {
    const server = await startServer({ namespaces: { brief: { history: { size: 2, ttlMs: 100 } } } });
    const c = await client(server, 'alice');
    const first = await c.publish('brief:x', 1, { key: 'k' });
    const at = Date.now();
    await waitFor(() => Date.now() > at + 200, 5_000, 'ttl to pass');
    const second = await c.publish('brief:x', 2, { key: 'k' });
    expect(second).toMatchObject({ offset: first.offset + 1 });
    expect(second.duplicate).toBeUndefined();

    // Trimmed by size: the key is forgotten with its publication.
    const size = await c.publish('brief:y', 1, { key: 'a' });
    await c.publish('brief:y', 2);
    await c.publish('brief:y', 3);
    expect((await c.publish('brief:y', 4, { key: 'a' })).offset).toBe(size.offset + 3);
  });

  it('dedupes keys in a namespace that keeps no history', async () => {
    const server = await startServer();
    const sub = await client(server, 'reader');
    const got: unknown[] = [];
    await sub.subscribe('nohist:x', { onPublication: (p) => got.push(p.data) }).ready;
    const c = await client(server, 'alice');
    const first = await c.publish('nohist:x', 'once', { key: 'k' });
    expect(await c.publish('nohist:x', 'once', { key: 'k' })).toMatchObject({ offset: first.offset, duplicate: true });
    await c.publish('nohist:x', 'next');
    await waitForValue(() => got, ['once', 'next'], 5_000, 'publications');
    expect(got).toEqual(['once', 'next']);
    expect((await c.history('nohist:x')).publications).toEqual([]);
  });
});
