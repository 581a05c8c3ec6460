import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateChange, SynclineClient } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { type Capability, type SynclineServer, signToken } from '@syncline/server';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  client,
  connectedRawSocket,
  defer,
  describeValue,
  type RawSocket,
  rawSocket,
  SECRET,
  startServer,
  token,
  waitFor,
  waitForValue,
  waitState,
} from './helpers.js';

/** Sends `connect` with `tok` on a fresh raw socket; returns the socket. */
async function rawConnect(server: SynclineServer, tok: string | undefined): Promise<RawSocket> {
  const raw = await rawSocket(server);
  const cmd: Record<string, unknown> = { type: 'connect', id: 1, protocol: 1 };
  if (tok !== undefined) cmd.token = tok;
  raw.send(JSON.stringify(cmd));
  return raw;
}

async function expectRefused(server: SynclineServer, tok: string | undefined, code: string, close: number) {
  const raw = await rawConnect(server, tok);
  expect(await raw.next((m) => m.id === 1)).toMatchObject({ type: 'error', code });
  const disconnect = await raw.next((m) => m.type === 'disconnect');
  expect(disconnect.code).toBe(close);
  expect((await raw.waitClosed()).code).toBe(close);
}

/** A request that must fail with `code` while the connection stays up. */
async function expectError(raw: RawSocket, cmd: Record<string, unknown>, code: string): Promise<void> {
  raw.send(JSON.stringify(cmd));
  expect(await raw.next((m) => m.id === cmd.id)).toMatchObject({ type: 'error', code });
}

async function signWith(
  alg: string,
  key: CryptoKey | Uint8Array,
  claims: { sub?: string; caps?: unknown; ttlSec?: number; kid?: string } = {},
) {
  const jwt = new SignJWT(claims.caps === undefined ? { caps: [{ match: '*', allow: ['*'] }] } : { caps: claims.caps })
    .setProtectedHeader(claims.kid === undefined ? { alg } : { alg, kid: claims.kid })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.ttlSec ?? 3600));
  if (claims.sub !== '') jwt.setSubject(claims.sub ?? 'alice');
  return jwt.sign(key);
}

describe('auth on connect', () => {
  it('refuses missing, malformed, expired and wrongly signed tokens with documented codes', async () => {
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    await expectRefused(server, undefined, 'unauthorized', CLOSE_CODES.UNAUTHORIZED.code);
    await expectRefused(server, 'not-a-jwt', 'unauthorized', CLOSE_CODES.UNAUTHORIZED.code);
    await expectRefused(
      server,
      await signToken('another-secret-0123456789-abcdefghij', { sub: 'mallory', caps: [] }),
      'unauthorized',
      CLOSE_CODES.UNAUTHORIZED.code,
    );
    await expectRefused(server, await token('alice', undefined, -60), 'token_expired', CLOSE_CODES.TOKEN_EXPIRED.code);
    const key = new TextEncoder().encode(SECRET);
    await expectRefused(server, await signWith('HS256', key, { sub: '' }), 'unauthorized', 4001);
    await expectRefused(server, await signWith('HS256', key, { caps: 'everything' }), 'unauthorized', 4001);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'mallory', caps: [{ match: '*', allow: ['*'] }] }),
    ).toString('base64url')}.`;
    await expectRefused(server, unsigned, 'unauthorized', 4001);

    // Others keep working; refused connections hold nothing on the server.
    const ok = await client(server, 'bob');
    await waitState(ok, 'connected');
    await waitForValue(() => server.connectionCount, 1, 5_000, 'server connections (refused ones gone)');
  });

  it('reads the token from the connect frame only, never from the URL', async () => {
    const server = await startServer();
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/connect/ws?token=${await token('alice')}`, [
      'syncline.json',
    ]);
    defer(() => ws.terminate());
    const messages: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => messages.push(...[JSON.parse(d.toString()) as Record<string, unknown>].flat()));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1 }));
    await waitFor(
      () => messages.some((m) => m.id === 1),
      5_000,
      () => `wanted a reply to id 1, saw ${describeValue(messages)}`,
    );
    expect(messages.find((m) => m.id === 1)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });

  it('leaves a client without getToken disconnected with the close code, and never retries', async () => {
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    const c = await client(server, 'alice', { token: await token('alice', undefined, -60), requestTimeoutMs: 500 });
    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    await waitFor(
      () => states.some((s) => s.state === 'disconnected'),
      5_000,
      () => `wanted a disconnected state, saw ${describeValue(states)}`,
    );
    expect(states.at(-1)).toMatchObject({ state: 'disconnected', reason: 'unauthorized', code: 4002 });
    // No connection will come: requests fail at once with the refusal's code, not after the request timeout.
    const started = Date.now();
    await expect(c.publish('chat:x', 1)).rejects.toMatchObject({ code: 'token_expired' });
    expect(Date.now() - started).toBeLessThan(250);
    expect(states.filter((s) => s.state === 'connecting')).toHaveLength(0);
    expect(c.state).toBe('disconnected');
  });
});

describe('capabilities', () => {
  it('checks every subscribe, publish and history against glob capabilities; the connection stays up', async () => {
    const server = await startServer();
    const caps: Capability[] = [
      { match: 'chat:*', allow: ['subscribe', 'history'] },
      { match: 'chat:own-*', allow: ['publish'] },
      { match: 'subs:room-?', allow: ['*'] },
    ];
    const raw = await connectedRawSocket(server, 'alice', caps);
    await expectError(raw, { type: 'subscribe', id: 2, channel: 'news:x' }, 'forbidden');
    await expectError(raw, { type: 'publish', id: 3, channel: 'chat:lobby', data: 1 }, 'forbidden');
    await expectError(raw, { type: 'history', id: 4, channel: 'news:x' }, 'forbidden');
    await expectError(raw, { type: 'subscribe', id: 5, channel: 'subs:room-10' }, 'forbidden');
    // allowPublish "subscribers": allowed by the token, but only while subscribed.
    await expectError(raw, { type: 'publish', id: 6, channel: 'subs:room-1', data: 1 }, 'forbidden');
    // allowPublish "none": only the server may publish.
    await expectError(raw, { type: 'publish', id: 7, channel: 'news:x', data: 1 }, 'publish_disabled');

    raw.send(JSON.stringify({ type: 'subscribe', id: 8, channel: 'chat:lobby' }));
    expect(await raw.next((m) => m.id === 8)).toMatchObject({ type: 'reply' });
    raw.send(JSON.stringify({ type: 'publish', id: 9, channel: 'chat:own-alice', data: 'mine' }));
    expect(await raw.next((m) => m.id === 9)).toMatchObject({ type: 'reply', result: { offset: 1 } });
    raw.send(JSON.stringify({ type: 'subscribe', id: 10, channel: 'subs:room-1' }));
    await raw.next((m) => m.id === 10);
    raw.send(JSON.stringify({ type: 'publish', id: 11, channel: 'subs:room-1', data: 'ok' }));
    expect(await raw.next((m) => m.id === 11)).toMatchObject({ type: 'reply' });
    expect(raw.closed).toBeUndefined();
    // Denied publications were not stored.
    const reader = await client(server, 'reader');
    expect((await reader.history('chat:lobby')).offset).toBe(0);
    expect((await reader.history('news:x')).offset).toBe(0);
  });

  it('rejects SDK requests with a typed forbidden error', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', {
      token: await token('alice', [{ match: 'chat:*', allow: ['subscribe'] }]),
    });
    await expect(c.publish('chat:a', 1)).rejects.toMatchObject({ name: 'SynclineError', code: 'forbidden' });
    const sub = c.subscribe('news:a');
    await expect(sub.ready).rejects.toMatchObject({ code: 'forbidden' });
    expect(sub.state).toBe('unsubscribed');
    await c.subscribe('chat:a').ready;
    expect(c.state).toBe('connected');
  });
});

describe('token refresh', () => {
  it('calls getToken again when the server says the token expired, then connects', async () => {
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    let calls = 0;
    const c = await client(server, 'alice', {
      token: await token('alice', undefined, -60),
      getToken: async () => {
        calls++;
        return token('alice');
      },
    });
    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    await waitState(c, 'connected');
    expect(calls).toBe(1);
    expect(states.find((s) => s.state === 'disconnected')).toMatchObject({ code: CLOSE_CODES.TOKEN_EXPIRED.code });
  });

  it('refreshes in band before expiry: same session, subscriptions kept, connection never closed', async () => {
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    let calls = 0;
    const c = await client(server, 'alice', {
      getToken: async () => {
        calls++;
        // Short-lived, but long enough that a refresh round trip over a slow
        // HTTP transport on a loaded machine lands before expiry.
        return token('alice', undefined, 4);
      },
    });
    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    await waitState(c, 'connected');
    states.length = 0;
    const session = c.info?.session;
    const firstExpiry = c.info?.expiresAt ?? 0;
    const got: unknown[] = [];
    await c.subscribe('chat:r', { onPublication: (p) => got.push(p.data) }).ready;
    await waitFor(() => Date.now() > firstExpiry + 1_000, 10_000, 'the first token to expire');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThan(20);
    expect(states).toEqual([]);
    expect(c.state).toBe('connected');
    await server.publish('chat:r', 'still here');
    await waitForValue(() => got, ['still here'], 5_000, 'publications');
    expect([...server.core.sessions].map((s) => s.id)).toEqual([session]);
  }, 30_000);

  it('refuses a refreshed token of another user and drops channels the new token no longer allows', async () => {
    const server = await startServer();
    const raw = await connectedRawSocket(server, 'alice');
    raw.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:a' }));
    raw.send(JSON.stringify({ type: 'subscribe', id: 3, channel: 'news:a' }));
    await raw.next((m) => m.id === 3);
    await expectError(raw, { type: 'refresh', id: 4, token: await token('bob') }, 'unauthorized');
    await expectError(raw, { type: 'refresh', id: 5, token: 'garbage' }, 'unauthorized');
    raw.send(
      JSON.stringify({ type: 'refresh', id: 6, token: await token('alice', [{ match: 'chat:*', allow: ['*'] }]) }),
    );
    expect(await raw.next((m) => m.id === 6)).toMatchObject({ type: 'reply', result: { unsubscribed: ['news:a'] } });
    expect(await raw.next((m) => m.type === 'unsubscribed')).toMatchObject({ channel: 'news:a', code: 'forbidden' });
    expect(raw.closed).toBeUndefined();
  });

  it('closes a connection whose token expires unrefreshed with TOKEN_EXPIRED', async () => {
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    const raw = await rawConnect(server, await token('alice', undefined, 1));
    expect(await raw.next((m) => m.id === 1)).toMatchObject({ type: 'reply' });
    expect((await raw.waitClosed(5_000)).code).toBe(CLOSE_CODES.TOKEN_EXPIRED.code);
    expect(raw.messages.find((m) => m.type === 'disconnect')).toMatchObject({ code: 4002, reconnect: true });
  });
  it('keeps a token accepted within the clock tolerance open until exp plus the tolerance, then closes it', async () => {
    const toleranceSec = 3;
    const server = await startServer({ auth: { secret: SECRET, clockToleranceSec: toleranceSec } });
    const tok = await token('alice', undefined, -1); // expired a second ago, inside the tolerance
    const exp = (JSON.parse(Buffer.from(tok.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;
    const raw = await rawConnect(server, tok);
    expect(await raw.next((m) => m.id === 1)).toMatchObject({ type: 'reply' });
    // The session is usable, not closed the moment it connected.
    raw.send(JSON.stringify({ type: 'publish', id: 2, channel: 'chat:grace', data: 1 }));
    expect(await raw.next((m) => m.id === 2)).toMatchObject({ type: 'reply', result: { offset: 1 } });
    expect((await raw.waitClosed(10_000)).code).toBe(CLOSE_CODES.TOKEN_EXPIRED.code);
    // Closed no earlier than the instant a connect with this token is refused.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 + toleranceSec * 1000 - 50);
    await expectRefused(server, tok, 'token_expired', CLOSE_CODES.TOKEN_EXPIRED.code);
  });
});

describe('asymmetric keys and JWKS', () => {
  async function roundTrip(server: SynclineServer, tok: string): Promise<SynclineClient> {
    const c = await client(server, 'alice', { token: tok });
    await waitState(c, 'connected');
    expect(c.info?.user).toBe('alice');
    expect((await c.publish('chat:k', 'signed')).offset).toBeGreaterThan(0);
    return c;
  }

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`verifies ${alg} tokens with a PEM public key and refuses other keys`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const other = await generateKeyPair(alg);
      const server = await startServer({ auth: { publicKey: await exportSPKI(publicKey), algorithm: alg } });
      await roundTrip(server, await signWith(alg, privateKey));
      await expectRefused(server, await signWith(alg, other.privateKey), 'unauthorized', 4001);
      await expectRefused(server, await token('alice'), 'unauthorized', 4001);
    });
  }

  it('verifies tokens against a JWKS served over HTTP and an inline JWKS, by kid', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const jwk = async (k: CryptoKey, kid: string, alg: string): Promise<JWK> => ({
      ...(await exportJWK(k)),
      kid,
      alg,
      use: 'sig',
    });
    const keys = { keys: [await jwk(rsa.publicKey, 'rsa-1', 'RS256'), await jwk(ec.publicKey, 'ec-1', 'ES256')] };
    let fetches = 0;
    const http = createHttpServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(keys));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => http.close(() => r())));
    const jwksUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/.well-known/jwks.json`;

    const remote = await startServer({ auth: { jwksUrl } });
    await roundTrip(remote, await signWith('RS256', rsa.privateKey, { kid: 'rsa-1' }));
    await roundTrip(remote, await signWith('ES256', ec.privateKey, { kid: 'ec-1', sub: 'alice' }));
    expect(fetches).toBeGreaterThanOrEqual(1);
    const stranger = await generateKeyPair('RS256');
    await expectRefused(remote, await signWith('RS256', stranger.privateKey, { kid: 'rsa-1' }), 'unauthorized', 4001);
    await expectRefused(remote, await signWith('RS256', rsa.privateKey, { kid: 'unknown' }), 'unauthorized', 4001);

    const inline = await startServer({ auth: { jwks: keys } });
    await roundTrip(inline, await signWith('ES256', ec.privateKey, { kid: 'ec-1' }));
    const ecStranger = await generateKeyPair('ES256');
    await expectRefused(inline, await signWith('ES256', ecStranger.privateKey, { kid: 'ec-1' }), 'unauthorized', 4001);
  });
});
