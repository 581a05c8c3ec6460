import type { Socket } from 'node:net';
import type { ClientOptions, ReceivedPublication } from '@syncline/client';
import {
  CODECS,
  type Codec,
  handshakeSubprotocolFor,
  handshakeSubprotocols,
  PROTOCOL_VERSION,
  subprotocolFor,
} from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, defer, startServer, token, waitFor, waitState } from './helpers.js';

/** A `ws` constructor that records, per socket, the subprotocol the server selected and every frame sent. */
function recordingWebSocket(): {
  ctor: NonNullable<ClientOptions['WebSocket']>;
  sockets: Array<{ offered: string[]; selected: () => string; sent: Array<string | Uint8Array> }>;
} {
  const sockets: Array<{ offered: string[]; selected: () => string; sent: Array<string | Uint8Array> }> = [];
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      const sent: Array<string | Uint8Array> = [];
      const offered = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
      sockets.push({ offered, selected: () => this.protocol, sent });
      const send = this.send.bind(this);
      this.send = ((data: string | Uint8Array) => {
        sent.push(data);
        send(data);
      }) as WebSocket['send'];
    }
  }
  return { ctor: Recording as unknown as NonNullable<ClientOptions['WebSocket']>, sockets };
}

/** The decoded `type` of every frame a client sent. */
function sentTypes(codec: Codec, sent: Array<string | Uint8Array>): string[] {
  return sent.flatMap((f) => {
    const v = codec.decode(typeof f === 'string' ? f : new Uint8Array(f)) as { type: string } | Array<{ type: string }>;
    return Array.isArray(v) ? v.map((m) => m.type) : [v.type];
  });
}

/** Counts the writes to each socket the server accepts (`_write` and `_writev` calls: one each per write request). */
function countServerWrites(server: SynclineServer): number[] {
  const counts: number[] = [];
  server.httpServer.on('connection', (socket: Socket) => {
    const i = counts.push(0) - 1;
    const s = socket as Socket & {
      _write: (...args: unknown[]) => void;
      _writev: (...args: unknown[]) => void;
    };
    const write = s._write.bind(s);
    const writev = s._writev.bind(s);
    s._write = (...args) => {
      counts[i] = (counts[i] ?? 0) + 1;
      write(...args);
    };
    s._writev = (...args) => {
      counts[i] = (counts[i] ?? 0) + 1;
      writev(...args);
    };
  });
  return counts;
}

/** Opens a raw socket offering `protocols`; resolves with the selected subprotocol and the messages received. */
async function rawOpen(
  server: SynclineServer,
  protocols: string[],
  codec: Codec = CODECS.json,
): Promise<{ ws: WebSocket; protocol: string; messages: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, protocols);
  defer(() => ws.terminate());
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const v = codec.decode(binary ? new Uint8Array(data) : data.toString()) as unknown;
    if (Array.isArray(v)) messages.push(...(v as Array<Record<string, unknown>>));
    else messages.push(v as Record<string, unknown>);
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, protocol: ws.protocol, messages };
}

describe('handshake connect', () => {
  for (const codecName of ['json', 'msgpack'] as const) {
    it(`connects a ${codecName} client without a connect frame; subscriptions and publishes work after it`, async () => {
      const server = await startServer();
      const codec = CODECS[codecName];
      const rec = recordingWebSocket();
      const a = await client(server, 'alice', { codec: codecName, WebSocket: rec.ctor, transports: ['websocket'] });
      const b = await client(server, 'bob', { codec: codecName, transports: ['websocket'] });
      await waitState(a, 'connected');
      await waitState(b, 'connected');
      expect(rec.sockets).toHaveLength(1);
      const socket = rec.sockets[0] as (typeof rec.sockets)[number];
      expect(socket.offered.slice(0, 2)).toEqual([handshakeSubprotocolFor(codec), subprotocolFor(codec)]);
      expect(socket.selected()).toBe(handshakeSubprotocolFor(codec));
      const got: ReceivedPublication[] = [];
      await a.subscribe('chat:hs', { onPublication: (p) => got.push(p) }).ready;
      await b.publish('chat:hs', { n: 1 });
      await a.publish('chat:hs', { n: 2 });
      await waitFor(() => got.length === 2, 5_000, 'publications');
      expect(got.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(sentTypes(codec, socket.sent)).not.toContain('connect');
      expect(sentTypes(codec, socket.sent)).toContain('subscribe');
      expect([...server.core.sessions].map((s) => s.codec.name)).toEqual([codecName, codecName]);
    });
  }

  it('writes the upgrade response and the connect reply in one socket write', async () => {
    const server = await startServer();
    const writes = countServerWrites(server);
    const cmd = { type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('alice') };
    const raw = await rawOpen(server, handshakeSubprotocols(CODECS.json, cmd) ?? []);
    expect(raw.protocol).toBe('syncline.json.connect');
    await waitFor(() => raw.messages.length > 0, 5_000, 'connect reply');
    expect(raw.messages[0]).toMatchObject({ type: 'reply', id: 1, result: { user: 'alice' } });
    expect(writes).toEqual([1]);
  });

  it('uses the handshake connect again on reconnect', async () => {
    const server = await startServer();
    const rec = recordingWebSocket();
    const a = await client(server, 'alice', { WebSocket: rec.ctor, transports: ['websocket'] });
    await waitState(a, 'connected');
    for (const s of server.core.sessions) s.close('SHUTDOWN', 'test');
    await waitFor(() => rec.sockets.length === 2, 5_000, 'reconnect');
    await waitState(a, 'connected');
    await a.publish('chat:again', { ok: true });
    for (const s of rec.sockets) {
      expect(s.selected()).toBe('syncline.json.connect');
      expect(sentTypes(CODECS.json, s.sent)).not.toContain('connect');
    }
  });

  it('an SDK client sends a connect frame with handshakeConnect: false', async () => {
    const server = await startServer();
    const rec = recordingWebSocket();
    const a = await client(server, 'alice', {
      WebSocket: rec.ctor,
      transports: ['websocket'],
      handshakeConnect: false,
    });
    await waitState(a, 'connected');
    const socket = rec.sockets[0] as (typeof rec.sockets)[number];
    expect(socket.offered).toEqual(['syncline.json']);
    expect(sentTypes(CODECS.json, socket.sent)).toEqual(['connect']);
  });

  describe('version skew', () => {
    it('a new client against a server without the feature sends its connect frame', async () => {
      const server = await startServer({ handshakeConnect: false });
      const rec = recordingWebSocket();
      const a = await client(server, 'alice', { WebSocket: rec.ctor, transports: ['websocket'] });
      await waitState(a, 'connected');
      const socket = rec.sockets[0] as (typeof rec.sockets)[number];
      expect(socket.offered[0]).toBe('syncline.json.connect');
      expect(socket.selected()).toBe('syncline.json');
      expect(sentTypes(CODECS.json, socket.sent)).toEqual(['connect']);
      await a.publish('chat:skew', { ok: true });
    });

    it('an old client that sends a connect frame connects to the new server', async () => {
      const server = await startServer();
      const raw = await rawOpen(server, ['syncline.json']);
      expect(raw.protocol).toBe('syncline.json');
      raw.ws.send(JSON.stringify({ type: 'connect', id: 7, protocol: PROTOCOL_VERSION, token: await token('old') }));
      await waitFor(() => raw.messages.some((m) => m.id === 7), 5_000, 'connect reply');
      expect(raw.messages.find((m) => m.id === 7)).toMatchObject({ type: 'reply', result: { user: 'old' } });
    });

    it('a connect frame after the handshake connect is refused like a second connect', async () => {
      const server = await startServer();
      const cmd = { type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('alice') };
      const raw = await rawOpen(server, handshakeSubprotocols(CODECS.json, cmd) ?? []);
      raw.ws.send(JSON.stringify({ ...cmd, id: 2 }));
      await waitFor(() => raw.messages.some((m) => m.id === 2), 5_000, 'second connect answer');
      expect(raw.messages[0]).toMatchObject({ type: 'reply', id: 1 });
      expect(raw.messages.find((m) => m.id === 2)).toMatchObject({ type: 'error', code: 'already_connected' });
    });
  });
});
