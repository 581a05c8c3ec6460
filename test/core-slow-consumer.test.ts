import type { Socket } from 'node:net';
import type { ReceivedPublication, WebSocketConstructor } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, connectedRawSocket, startServer, waitForValue } from './helpers.js';

const MAX_QUEUE_BYTES = 256 * 1024;
const PAYLOAD = 'x'.repeat(32 * 1024);
/** Publications per event-loop tick: one tick's burst stays well below the queue limit. */
const BURST = 4;
/** Far more than the queue limit plus every kernel socket buffer on the way. */
const MAX_FLOOD_BYTES = 512 * 1024 * 1024;

describe('slow consumer', () => {
  it('disconnects a client that stops reading once its queue passes the limit; memory stays bounded', async () => {
    const closes: Array<{ user: string; code: number }> = [];
    const server = await startServer({
      maxQueueBytes: MAX_QUEUE_BYTES,
      hooks: { afterDisconnect: ({ user, code }) => closes.push({ user, code }) },
    });
    const slow = await connectedRawSocket(server, 'slow');
    slow.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'nohist:flood' }));
    await slow.next((m) => m.id === 2);
    const reader = await client(server, 'reader');
    let readerCount = 0;
    await reader.subscribe('nohist:flood', { onPublication: () => readerCount++ }).ready;

    // Stop reading from the socket: the server's writes pile up in the kernel, then in its queue.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();

    let published = 0;
    let maxQueued = 0;
    const slowSession = () => [...server.core.sessions].find((s) => s.user === 'slow');
    while (slowSession() && published * PAYLOAD.length < MAX_FLOOD_BYTES) {
      await Promise.all(Array.from({ length: BURST }, () => server.publish('nohist:flood', PAYLOAD)));
      published += BURST;
      maxQueued = Math.max(maxQueued, slowSession()?.queuedBytes ?? 0);
      // Keep the healthy reader in step so its own queue never approaches the limit.
      await waitForValue(() => readerCount, published, 10_000, 'publication count at the healthy reader');
    }
    expect(slowSession()).toBeUndefined();
    expect(closes).toContainEqual({ user: 'slow', code: CLOSE_CODES.SLOW_CONSUMER.code });
    // Never more than the limit was held for it.
    expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    expect(maxQueued).toBeGreaterThan(0);

    // After the drop, publishing goes on without holding anything for the slow peer.
    expect(server.channels.localCounts().get('nohist:flood')).toBe(1);
    await Promise.all(Array.from({ length: BURST }, () => server.publish('nohist:flood', PAYLOAD)));
    await waitForValue(() => readerCount, published + BURST, 10_000, 'publication count at the reader after the drop');
    expect(reader.state).toBe('connected');
    expect(closes.filter((c) => c.user === 'reader')).toEqual([]);
  });

  it('lets a dropped SDK client reconnect and recover what it missed', async () => {
    const server = await startServer({
      maxQueueBytes: MAX_QUEUE_BYTES,
      namespaces: { big: { history: { size: 10_000, ttlMs: 600_000 } } },
    });
    const sockets: Array<{ _socket?: Socket }> = [];
    const { default: WebSocket } = await import('ws');
    class Tracked extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this as unknown as { _socket?: Socket });
      }
    }
    // Pauses the WebSocket's TCP socket: WebSocket only, whatever transport the suite runs over.
    const c = await client(server, 'slow', {
      transports: ['websocket'],
      // `ws` types its handlers' events (Event, MessageEvent …) more narrowly than WebSocketLike's `unknown`.
      WebSocket: Tracked as WebSocketConstructor,
    });
    const got: ReceivedPublication[] = [];
    const recovered: boolean[] = [];
    await c.subscribe('big:x', { onPublication: (p) => got.push(p), onRecovered: (ok) => recovered.push(ok) }).ready;
    const tcp = sockets[0]?._socket as Socket;
    tcp.pause();
    let published = 0;
    while (server.connectionCount === 1 && published * PAYLOAD.length < MAX_FLOOD_BYTES) {
      await Promise.all(Array.from({ length: BURST }, () => server.publish('big:x', PAYLOAD)));
      published += BURST;
    }
    expect(server.connectionCount).toBe(0);
    tcp.resume();
    await waitForValue(
      () => got.map((p) => p.offset),
      Array.from({ length: published }, (_, i) => i + 1),
      30_000,
      'offsets after reconnecting',
    );
    expect(got.map((p) => p.offset)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(recovered).toEqual([true]);
  }, 60_000);
});
