import { CLOSE_CODES } from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defer, describeValue, startServer, token, waitFor, waitForValue } from './helpers.js';

const API_KEY = 'per-ip-test-api-key-0123456789-abcdefg';

/** A raw WebSocket with optional request headers, recording messages and its close. */
interface Peer {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>>;
  closed: { code: number } | undefined;
  /** Sends `connect` and resolves with its reply (or error). */
  connect(sub?: string): Promise<Record<string, unknown>>;
}

async function peer(server: SynclineServer, headers: Record<string, string> = {}): Promise<Peer> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, ['syncline.json'], { headers });
  defer(() => ws.terminate());
  const p: Peer = {
    ws,
    messages: [],
    closed: undefined,
    async connect(sub = 'alice') {
      ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token(sub) }));
      await waitFor(
        () => p.messages.some((m) => m.id === 1) || p.closed !== undefined,
        5_000,
        () => `wanted the connect reply or a close, saw ${describeValue(p.messages)}`,
      );
      return p.messages.find((m) => m.id === 1) ?? { closed: p.closed };
    },
  };
  ws.on('message', (data) => {
    const v = JSON.parse(data.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
    p.messages.push(...(Array.isArray(v) ? v : [v]));
  });
  ws.on('close', (code) => {
    p.closed = { code };
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return p;
}

/** Waits until the server refuses `p`: an error `too_many_connections`, then close 4009. */
async function expectRefused(p: Peer): Promise<Record<string, unknown>> {
  await waitFor(
    () => p.closed !== undefined,
    5_000,
    () => `wanted the refused socket closed, saw it open with ${describeValue(p.messages)}`,
  );
  expect(p.closed?.code).toBe(CLOSE_CODES.TOO_MANY_CONNECTIONS.code);
  const err = p.messages.find((m) => m.type === 'error');
  expect(err?.code).toBe('too_many_connections');
  return err as Record<string, unknown>;
}

/** Expects 429 `too_many_connections` with Retry-After from an HTTP transport answer. */
async function expect429(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_many_connections');
}

function openPoll(server: SynclineServer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/connect/poll`, { method: 'POST', headers });
}

function openSse(server: SynclineServer): Promise<Response> {
  const ac = new AbortController();
  defer(() => ac.abort());
  return fetch(`${server.url}/connect/sse`, { signal: ac.signal });
}

describe('limits.maxConnectionsPerIp', () => {
  it('counts every transport; the next connection is refused (WebSocket 4009, HTTP 429); closing frees a slot', async () => {
    const server = await startServer({ limits: { maxConnectionsPerIp: 20 } });
    // 18 connected WebSockets, one SSE stream and one long-polling session: 20 from 127.0.0.1.
    const peers: Peer[] = [];
    for (let i = 0; i < 18; i++) {
      const p = await peer(server);
      expect((await p.connect(`u${i}`)).type).toBe('reply');
      peers.push(p);
    }
    expect((await openSse(server)).status).toBe(200);
    expect((await openPoll(server)).status).toBe(200);
    await waitForValue(() => server.connectionCount, 20, 5_000, 'connection count');

    const err = await expectRefused(await peer(server));
    expect(err.details).toEqual({ limit: 'maxConnectionsPerIp', value: 20 });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    await expect429(await openSse(server));
    await expect429(await openPoll(server));
    expect(server.connectionCount).toBe(20);

    // A closed connection frees its slot, for any transport.
    peers[0]?.ws.close();
    await waitForValue(() => server.connectionCount, 19, 5_000, 'connection count');
    expect((await openPoll(server)).status).toBe(200);
    await expectRefused(await peer(server));
    peers[1]?.ws.close();
    await waitForValue(() => server.connectionCount, 19, 5_000, 'connection count');
    expect((await (await peer(server)).connect('again')).type).toBe('reply');
  });

  it('caps connections that have not connected yet at a quarter of the limit', async () => {
    const server = await startServer({ limits: { maxConnectionsPerIp: 20 } });
    const pending: Peer[] = [];
    for (let i = 0; i < 5; i++) pending.push(await peer(server));
    const err = await expectRefused(await peer(server));
    expect(err.details).toEqual({ limit: 'maxConnectionsPerIp', value: 5, beforeConnect: true });
    await expect429(await openPoll(server));
    await expect429(await openSse(server));

    // Completing connect frees a pre-connect slot ...
    expect((await pending[0]?.connect('a'))?.type).toBe('reply');
    const sixth = await peer(server);
    expect((await sixth.connect('b')).type).toBe('reply');
    // ... and so does closing a pending connection.
    pending.push(await peer(server));
    await expectRefused(await peer(server));
    pending[1]?.ws.close();
    await waitForValue(() => server.connectionCount, 6, 5_000, 'connection count');
    expect((await openPoll(server)).status).toBe(200);
  });

  it('trustProxy: the address comes from X-Forwarded-For (the last hop); without it the header is ignored', async () => {
    const proxied = await startServer({ limits: { maxConnectionsPerIp: 8 }, trustProxy: true });
    const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });
    await peer(proxied, from('10.0.0.1'));
    await peer(proxied, from('10.0.0.1'));
    await expectRefused(await peer(proxied, from('10.0.0.1')));
    // A client-written entry in front of the proxy's does not change the address.
    await expectRefused(await peer(proxied, from('10.0.0.9, 10.0.0.1')));
    await expect429(await openPoll(proxied, from('10.0.0.1')));
    // Another address has its own slots.
    await peer(proxied, from('10.0.0.2'));
    expect((await openPoll(proxied, from('10.0.0.2'))).status).toBe(200);

    const direct = await startServer({ limits: { maxConnectionsPerIp: 8 } });
    await peer(direct, from('10.0.0.1'));
    await peer(direct, from('10.0.0.2'));
    await expectRefused(await peer(direct, from('10.0.0.3')));
  });
});

describe('/metrics with metrics.requireKey', () => {
  it('answers 401 unauthorized without the API key and the metrics with it', async () => {
    const server = await startServer({ apiKey: API_KEY, metrics: { requireKey: true } });
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('syncline_');
    // Default: open, as before.
    const open = await startServer({ apiKey: API_KEY });
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });
});

describe('HMAC tokens over a real socket', () => {
  it('a signature with other unused trailing bits is refused as unauthorized', async () => {
    const server = await startServer();
    const good = await token('admin');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(good.slice(-1));
    const forged = `${good.slice(0, -1)}${alphabet[last ^ 1]}`;
    const p = await peer(server);
    p.ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: forged }));
    await waitFor(
      () => p.messages.some((m) => m.id === 1),
      5_000,
      () => `wanted the connect reply, saw ${describeValue(p.messages)}`,
    );
    expect(p.messages.find((m) => m.id === 1)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });
});
