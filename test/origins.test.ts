import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defer, startServer, token, waitForValue } from './helpers.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const API_KEY = 'origins-test-api-key-0123456789-abcdef';

/** Tries a WebSocket upgrade with these headers: the HTTP status (101 when it opened) and the socket. */
function upgrade(
  server: SynclineServer,
  headers: Record<string, string>,
): Promise<{ status: number; ws: WebSocket | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws`, ['syncline.json'], { headers });
    defer(() => ws.terminate());
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ws: undefined });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Sends `connect` on an open socket and resolves with the reply. */
async function connectReply(ws: WebSocket): Promise<Record<string, unknown>> {
  const reply = new Promise<Record<string, unknown>>((resolve) => {
    ws.on('message', (data) => {
      const v = JSON.parse(data.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
      for (const m of Array.isArray(v) ? v : [v]) if (m.id === 1) resolve(m);
    });
  });
  ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('alice') }));
  return reply;
}

describe('allowed origins: WebSocket upgrades', () => {
  it('production default: a foreign Origin gets 403 before the upgrade; same origin, listed and none connect', async () => {
    const server = await startServer({ allowedOrigins: [APP] });
    expect((await upgrade(server, { origin: EVIL })).status).toBe(403);
    expect((await upgrade(server, { origin: 'null' })).status).toBe(403);
    // The same host on another port is another origin.
    expect((await upgrade(server, { origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect(server.connectionCount).toBe(0);
    for (const origin of [APP, `http://127.0.0.1:${server.port}`, undefined]) {
      const { status, ws } = await upgrade(server, origin === undefined ? {} : { origin });
      expect({ origin, status }).toEqual({ origin, status: 101 });
      expect((await connectReply(ws as WebSocket)).type).toBe('reply');
    }
  });

  it('without allowedOrigins only the same origin passes; dev mode and "*" allow any', async () => {
    const prod = await startServer();
    expect((await upgrade(prod, { origin: APP })).status).toBe(403);
    expect((await upgrade(prod, { origin: `http://127.0.0.1:${prod.port}` })).status).toBe(101);
    const dev = await startServer({ dev: true });
    expect((await upgrade(dev, { origin: EVIL })).status).toBe(101);
    const any = await startServer({ allowedOrigins: ['*'] });
    expect((await upgrade(any, { origin: EVIL })).status).toBe(101);
    // An explicit list applies in dev mode too.
    const devListed = await startServer({ dev: true, allowedOrigins: [APP] });
    expect((await upgrade(devListed, { origin: EVIL })).status).toBe(403);
  });
});

describe('allowed origins: CORS on the HTTP transports and the HTTP API', () => {
  it('SSE: an allowed Origin is reflected with vary: origin; a foreign one gets 403 forbidden and no session', async () => {
    const server = await startServer({ allowedOrigins: [APP] });
    const ac = new AbortController();
    defer(() => ac.abort());
    const ok = await fetch(`${server.url}/connect/sse`, { headers: { origin: APP }, signal: ac.signal });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('vary')?.toLowerCase()).toContain('origin');
    await waitForValue(() => server.connectionCount, 1, 5_000, 'connection count');
    ac.abort();
    await waitForValue(() => server.connectionCount, 0, 5_000, 'connection count');
    const bad = await fetch(`${server.url}/connect/sse`, { headers: { origin: EVIL } });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect(server.connectionCount).toBe(0);
    // No Origin (not a browser): unaffected, and no CORS header.
    const ac2 = new AbortController();
    defer(() => ac2.abort());
    const plain = await fetch(`${server.url}/connect/sse`, { signal: ac2.signal });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('long-polling: open and frames carry the allowed Origin; a foreign Origin gets 403 forbidden', async () => {
    const server = await startServer({ allowedOrigins: [APP] });
    const open = await fetch(`${server.url}/connect/poll`, { method: 'POST', headers: { origin: APP } });
    expect(open.status).toBe(200);
    expect(open.headers.get('access-control-allow-origin')).toBe(APP);
    const { session } = (await open.json()) as { session: string };
    const frame = JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('alice') });
    const sent = await fetch(`${server.url}/connect/poll/${session}`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'text/plain' },
      body: frame,
    });
    expect(sent.status).toBeLessThan(300);
    expect(sent.headers.get('access-control-allow-origin')).toBe(APP);
    const bad = await fetch(`${server.url}/connect/poll/${session}`, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'text/plain' },
      body: frame,
    });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const badOpen = await fetch(`${server.url}/connect/poll`, { method: 'POST', headers: { origin: EVIL } });
    expect(badOpen.status).toBe(403);
    expect(server.connectionCount).toBe(1);
  });

  it('HTTP API: allowed Origin reflected, preflight answered, foreign Origin 403 forbidden', async () => {
    const server = await startServer({ allowedOrigins: [APP], apiKey: API_KEY });
    const auth = { authorization: `Bearer ${API_KEY}` };
    const ok = await fetch(`${server.url}/v1/channels`, { headers: { ...auth, origin: APP } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('vary')?.toLowerCase()).toContain('origin');
    const preflight = await fetch(`${server.url}/v1/publish`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const bad = await fetch(`${server.url}/v1/channels`, { headers: { ...auth, origin: EVIL } });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const badPreflight = await fetch(`${server.url}/v1/publish`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(badPreflight.status).toBe(403);
    const plain = await fetch(`${server.url}/v1/channels`, { headers: auth });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
