import type { Socket } from 'node:net';
import type { ClientOptions, StateChange } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  client,
  connectedRawSocket,
  describeValue,
  rawSocket,
  startServer,
  token,
  waitFor,
  waitForAtLeast,
  waitForValue,
  waitState,
} from './helpers.js';

const PING_INTERVAL_MS = 100;

describe('heartbeats', () => {
  it('closes a peer that stops answering pings with HEARTBEAT_TIMEOUT; answering peers stay', async () => {
    const closes: Array<{ user: string; code: number }> = [];
    // A longer interval than the other tests: the answering peers share this process with the server.
    const server = await startServer({
      pingIntervalMs: PING_INTERVAL_MS * 2.5,
      hooks: { afterDisconnect: ({ user, code }) => closes.push({ user, code }) },
    });
    const silent = await connectedRawSocket(server, 'silent');
    const polite = await connectedRawSocket(server, 'polite');
    polite.ws.on('message', (d) => {
      if (d.toString().includes('"ping"')) polite.send('{"type":"pong"}');
    });
    const sdk = await client(server, 'sdk');
    await waitState(sdk, 'connected');
    const session = sdk.info?.session;

    const closed = await silent.waitClosed(5_000);
    expect(closed.code).toBe(CLOSE_CODES.HEARTBEAT_TIMEOUT.code);
    expect(silent.messages.some((m) => m.type === 'ping')).toBe(true);
    expect(closes).toContainEqual({ user: 'silent', code: CLOSE_CODES.HEARTBEAT_TIMEOUT.code });

    // Several more intervals: those answering pings are still there.
    const pingsSeen = (): number => polite.messages.filter((m) => m.type === 'ping').length;
    const base = pingsSeen();
    await waitForAtLeast(pingsSeen, base + 4, 5_000, 'pings');
    expect(polite.closed).toBeUndefined();
    expect(sdk.state).toBe('connected');
    expect(sdk.info?.session).toBe(session);
    expect(closes.map((c) => c.user)).toEqual(['silent']);
  });

  it('keeps a peer whose pong arrived while the server process was busy', async () => {
    const server = await startServer({ pingIntervalMs: PING_INTERVAL_MS });
    const peer = await connectedRawSocket(server, 'peer');
    let stalls = 3;
    let pings = 0;
    peer.ws.on('message', (d) => {
      if (!d.toString().includes('"ping"')) return;
      pings++;
      peer.send('{"type":"pong"}');
      // The pong is on its way; the process (server included) then stalls past the next round.
      if (stalls-- > 0) {
        const until = performance.now() + PING_INTERVAL_MS * 1.5;
        while (performance.now() < until) {
          // busy
        }
      }
    });
    await waitForAtLeast(() => pings, 6, 5_000, 'pings after the stalls');
    expect(peer.closed).toBeUndefined();
  });

  it('spreads the node pings over the interval: each peer is pinged once per interval, not all at once', async () => {
    const interval = 1_000;
    const server = await startServer({ pingIntervalMs: interval });
    const pings = Array.from({ length: 50 }, () => [] as number[]);
    // Each peer answers pings before it even sends connect (one pinged the moment it is
    // connected must not miss its pong); the times count from when all are connected.
    const peers = await Promise.all(
      pings.map(async (times, i) => {
        const peer = await rawSocket(server);
        peer.ws.on('message', (d) => {
          if (!d.toString().includes('"ping"')) return;
          times.push(performance.now());
          peer.send('{"type":"pong"}');
        });
        peer.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token(`p${i}`) }));
        expect((await peer.next((m) => m.id === 1)).type).toBe('reply');
        return peer;
      }),
    );
    for (const times of pings) times.length = 0;
    await waitFor(
      () => pings.every((p) => p.length >= 3),
      10_000,
      () => `pings per peer: ${pings.map((p) => p.length)}`,
    );
    // The first ping each peer saw after all were connected: spread over most of the interval.
    const firsts = pings.map((p) => p[0] as number).sort((a, b) => a - b);
    const spread = (firsts.at(-1) as number) - (firsts[0] as number);
    expect(spread).toBeGreaterThan(interval / 2);
    // No 100 ms window holds more than a fraction of them (25 groups of 2 peers, one every 40 ms).
    let crowded = 0;
    for (const t of firsts) crowded = Math.max(crowded, firsts.filter((u) => u >= t && u < t + 100).length);
    expect(crowded).toBeLessThanOrEqual(25);
    // Each peer is pinged once per interval.
    for (const p of pings) {
      const gap = (p[2] as number) - (p[1] as number);
      expect(gap).toBeGreaterThan(interval * 0.8);
      expect(gap).toBeLessThan(interval * 2);
    }
    for (const peer of peers) expect(peer.closed).toBeUndefined();
  });

  it('first pings a new session half an interval or more after it was accepted, and within 1.5 intervals', async () => {
    const interval = 1_000;
    const server = await startServer({ pingIntervalMs: interval });
    const firsts: number[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const opened = performance.now();
        const peer = await rawSocket(server);
        let pinged = false;
        peer.ws.on('message', (d) => {
          if (!d.toString().includes('"ping"')) return;
          if (!pinged) firsts.push(performance.now() - opened);
          pinged = true;
          peer.send('{"type":"pong"}');
        });
        peer.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token(`young${i}`) }));
        expect((await peer.next((m) => m.id === 1)).type).toBe('reply');
      }),
    );
    await waitFor(
      () => firsts.length === 30,
      5_000,
      () => `first pings seen: ${firsts.length}`,
    );
    // Timed from before each socket was opened, so up to a little past the server's own 1.5 intervals.
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(interval / 2);
    expect(Math.max(...firsts)).toBeLessThan(interval * 1.5 + 250);
  });

  it('answers a client ping with pong, before and after connect', async () => {
    const server = await startServer();
    const raw = await rawSocket(server);
    raw.send('{"type":"ping"}');
    await raw.next((m) => m.type === 'pong');
    expect(raw.closed).toBeUndefined();
  });

  it('closes a connection that sends no connect within connectTimeoutMs', async () => {
    const server = await startServer({ connectTimeoutMs: 200 });
    const raw = await rawSocket(server);
    const closed = await raw.waitClosed(5_000);
    expect(closed.code).toBe(CLOSE_CODES.CONNECT_TIMEOUT.code);
    expect(raw.messages.find((m) => m.type === 'disconnect')).toMatchObject({ code: 4004, reconnect: true });
    await waitForValue(() => server.connectionCount, 0, 5_000, 'server connections');
  });

  it('lets the client detect a silent link by itself, reconnect and recover', async () => {
    const server = await startServer({ pingIntervalMs: PING_INTERVAL_MS });
    const sockets: WebSocket[] = [];
    class Tracked extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    // Pauses the WebSocket's TCP socket: WebSocket only, whatever transport the suite runs over.
    const c = await client(server, 'alice', {
      transports: ['websocket'],
      WebSocket: Tracked as unknown as NonNullable<ClientOptions['WebSocket']>,
    });
    const got: number[] = [];
    const recovered: boolean[] = [];
    await c.subscribe('chat:hb', { onPublication: (p) => got.push(p.offset), onRecovered: (ok) => recovered.push(ok) })
      .ready;
    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    // The link goes silent: nothing the server sends reaches the client any more.
    (sockets[0] as unknown as { _socket: Socket })._socket.pause();
    await server.publish('chat:hb', 'while silent');
    await waitFor(
      () => states.some((s) => s.reason === 'heartbeat_timeout'),
      15_000,
      () => `wanted a heartbeat_timeout state change, saw ${describeValue(states)}`,
    );
    await waitState(c, 'connected', 5_000);
    await waitForValue(() => got, [1], 5_000, 'recovered publications');
    expect(got).toEqual([1]);
    expect(recovered).toEqual([true]);
    expect(states[0]).toMatchObject({ state: 'disconnected', reason: 'heartbeat_timeout' });
  }, 30_000);
});
