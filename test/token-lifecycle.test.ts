import type { ReceivedPublication, StateChange } from '@syncline/client';
import { CLOSE_CODES, PROTOCOL_VERSION, SynclineError } from '@syncline/protocol';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ALL,
  client,
  describeValue,
  rawSocket,
  SECRET,
  startServer,
  TEST_NAMESPACES,
  tempDir,
  token,
  waitFor,
  waitForAtLeast,
  waitForValue,
  waitState,
} from './helpers.js';

/** Signs a token with an explicit issued-at time (seconds). */
function tokenIssuedAt(sub: string, iatSec: number, ttlSec = 3600): Promise<string> {
  return new SignJWT({ caps: ALL })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(iatSec)
    .setExpirationTime(iatSec + ttlSec)
    .sign(new TextEncoder().encode(SECRET));
}

describe('in-band token refresh', () => {
  it('keeps the connection and a subscription alive with no missed or duplicated publications', async () => {
    const server = await startServer();
    let tokens = 0;
    const sub = await client(server, 'alice', {
      getToken: async () => {
        tokens++;
        return token('alice', ALL, 3);
      },
    });
    const got: ReceivedPublication[] = [];
    const s = sub.subscribe('chat:refresh', { onPublication: (p) => got.push(p) });
    await s.ready;
    const states: StateChange[] = [];
    sub.on('state', (st) => states.push(st));
    const sessionBefore = sub.info?.session;

    const pub = await client(server, 'bob');
    await waitState(pub, 'connected');
    let published = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        await pub.publish('chat:refresh', { n: published + 1 });
        published++;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    // Two refreshes (the first token plus two more) while publications flow.
    await waitForAtLeast(() => tokens, 3, 15_000, 'tokens issued (the first plus two refreshes)');
    stop = true;
    await publishing;
    await waitFor(
      () => got.length === published,
      5_000,
      () => `wanted ${published} publications, saw offsets ${describeValue(got.map((p) => p.offset))}`,
    );

    expect(states).toEqual([]);
    expect(sub.info?.session).toBe(sessionBefore);
    expect(s.state).toBe('subscribed');
    expect(got.map((p) => p.offset)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(published).toBeGreaterThan(10);
  });

  it('a narrowing refresh unsubscribes forbidden channels with a reason and ends presence there', async () => {
    const server = await startServer({ namespaces: { ...TEST_NAMESPACES, room: { presence: true } } });
    let narrow = false;
    const c = await client(server, 'alice', {
      getToken: () =>
        narrow
          ? token('alice', [{ match: 'small:*', allow: ['*'] }], 3)
          : token('alice', [{ match: '*', allow: ['*'] }], 3),
    });
    const kept = c.subscribe('small:kept');
    const lost = c.subscribe('chat:lost');
    await Promise.all([kept.ready, lost.ready]);
    const presence = c.presence('room:r1');
    await presence.enter({ here: true });
    const ended: string[] = [];
    presence.on('ended', (e) => ended.push(`${e.what}:${e.code}`));
    const unsubscribed: Array<{ code: string; message: string }> = [];
    lost.on('unsubscribed', (e) => unsubscribed.push(e));
    narrow = true;

    await waitForValue(() => lost.state, 'unsubscribed', 10_000, 'subscription state');
    expect(unsubscribed[0]?.code).toBe('forbidden');
    expect(kept.state).toBe('subscribed');
    expect(c.state).toBe('connected');
    await waitFor(
      () => ended.length === 2,
      5_000,
      () => `wanted 2 presence ended events, saw ${describeValue(ended)}`,
    );
    expect(ended.sort()).toEqual(['entry:forbidden', 'subscription:forbidden']);
    expect((await server.presence.list('room:r1')).entries).toEqual([]);
    await expect(c.publish('chat:lost', 1)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c.publish('small:kept', 1)).resolves.toMatchObject({ offset: 1 });
  });
});

describe('revocation', () => {
  it('disconnects the user within a second and refuses tokens issued before it', async () => {
    const server = await startServer();
    const oldToken = await token('mallory');
    const c = await client(server, 'mallory', { token: oldToken });
    const other = await client(server, 'alice');
    await Promise.all([waitState(c, 'connected'), waitState(other, 'connected')]);
    const closes: StateChange[] = [];
    c.on('state', (s) => closes.push(s));

    const { before, disconnected } = server.revokeUser('mallory');
    expect(disconnected).toBe(1);
    await waitForValue(() => c.state, 'disconnected', 1_000, 'client state');
    expect(closes[0]?.code).toBe(CLOSE_CODES.REVOKED.code);
    expect(other.state).toBe('connected');

    // The old token is refused with `revoked`; a token issued after `before` is accepted.
    const raw = await rawSocket(server);
    raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: oldToken }));
    const refused = await raw.next((m) => m.type === 'error');
    expect(refused.code).toBe('revoked');
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.REVOKED.code);

    const fresh = await client(server, 'mallory', { token: await tokenIssuedAt('mallory', before / 1000) });
    await waitState(fresh, 'connected');
  });

  it('refuses a refresh with a revoked token', async () => {
    const server = await startServer();
    const now = Math.floor(Date.now() / 1000);
    const c = await client(server, 'mallory', { token: await tokenIssuedAt('mallory', now + 5) });
    await waitState(c, 'connected');
    server.revokeUser('mallory', { before: (now + 2) * 1000 });
    expect(c.state).toBe('connected');
    const err = await c.request({ type: 'refresh', token: await tokenIssuedAt('mallory', now) }).catch((e) => e);
    expect(err).toBeInstanceOf(SynclineError);
    expect((err as SynclineError).code).toBe('revoked');
    expect(c.state).toBe('connected');
  });

  it('survives a restart (kept in the database)', async () => {
    const dir = tempDir();
    const first = await startServer({ dataDir: dir });
    const oldToken = await token('mallory');
    first.revokeUser('mallory');
    await first.close();
    const second = await startServer({ dataDir: dir });
    const raw = await rawSocket(second);
    raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: oldToken }));
    expect((await raw.next((m) => m.type === 'error')).code).toBe('revoked');
    expect(second.unrevokeUser('mallory')).toBe(true);
    const c = await client(second, 'mallory', { token: oldToken });
    await waitState(c, 'connected');
  });
});
