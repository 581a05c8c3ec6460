import type { SynclineClient } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { type ProxyOptions, parseConfigFile, type SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { client, startServer, TEST_NAMESPACES, waitFor, waitState } from './helpers.js';
import { type Answer, backend, PROXY_SECRET } from './proxy-backend.js';

const ALL_CAPS = [{ match: '*', allow: ['*'] }];
const CHAT_ONLY = [{ match: 'chat:*', allow: ['*'] }];

/** What the backend answers a refresh of `user`, given the refresh request's body. */
type RefreshAnswer = (user: string, body: Record<string, unknown>) => Answer | Promise<Answer>;

/**
 * A node with connect and refresh proxies: a connect's `data.cookie` is the
 * user, granted all capabilities until `expiresAt(user)`; refreshes are
 * answered by `refresh`. The subscribe proxy refuses `chat:rechecked` once
 * `state.refuseRechecked` is set.
 */
async function refreshServer(
  expiresAt: (user: string) => number,
  refresh: RefreshAnswer,
  extra: Partial<ProxyOptions> = {},
  state = { refuseRechecked: false },
) {
  const b = await backend((path, body) => {
    if (path === '/connect') {
      const user = (body.data as { cookie: string }).cookie;
      return { json: { user, caps: ALL_CAPS, expiresAt: expiresAt(user) } };
    }
    if (path === '/refresh') return refresh(body.user as string, body);
    if (path === '/subscribe' && body.channel === 'chat:rechecked' && state.refuseRechecked)
      return { json: { error: { message: 'No longer.' } } };
    return { json: {} };
  });
  const server = await startServer({
    namespaces: { ...TEST_NAMESPACES, open: {} },
    proxy: {
      connect: `${b.url}/connect`,
      refresh: `${b.url}/refresh`,
      namespaces: { chat: { subscribe: `${b.url}/subscribe` } },
      refreshMinIntervalMs: 100,
      timeoutMs: 300,
      secret: PROXY_SECRET,
      ...extra,
    },
  });
  return { server, backend: b };
}

/** A client authenticated by the connect proxy as `user`; records the close codes of its transitions. */
async function proxied(server: SynclineServer, user: string) {
  const c = await client(server, 'anonymous', { connectData: { cookie: user } });
  const codes: (number | string)[] = [];
  c.on('state', (e) => {
    if (e.code !== undefined) codes.push(e.code);
  });
  await waitState(c, 'connected');
  return { c, codes, session: c.info?.session };
}

const sessionOf = (server: SynclineServer, c: SynclineClient) =>
  [...server.core.sessions].find((s) => s.id === c.info?.session);

describe('refresh proxy', () => {
  it('extends a session past its first expiresAt, changes its capabilities and re-checks channels behind a subscribe proxy', async () => {
    const state = { refuseRechecked: false };
    const first = Date.now() + 1_500;
    const { server, backend: b } = await refreshServer(
      () => first,
      (_user, body) => ({
        json: {
          expiresAt: Date.now() + 1_000,
          caps: CHAT_ONLY,
          data: { cookie: 'rotated', was: body.data },
        },
      }),
      {},
      state,
    );
    const ada = await proxied(server, 'ada');
    const ended: string[] = [];
    for (const channel of ['open:x', 'chat:rechecked', 'chat:room']) {
      const sub = ada.c.subscribe(channel);
      sub.on('unsubscribed', (e) => ended.push(`${channel} ${e.code}: ${e.message}`));
      await sub.ready;
    }
    state.refuseRechecked = true;
    await waitFor(
      () => ended.length === 2,
      5_000,
      () => `ended ${ended}`,
    );
    expect(ended.sort()).toEqual([
      'chat:rechecked forbidden: No longer.',
      'open:x forbidden: The refreshed token no longer allows this channel.',
    ]);
    // Alive well past the first grant, on the same session, through several refreshes.
    await waitFor(
      () => Date.now() > first + 1_500,
      5_000,
      () => 'time',
    );
    expect({ state: ada.c.state, session: ada.c.info?.session, codes: ada.codes }).toEqual({
      state: 'connected',
      session: ada.session,
      codes: [],
    });
    const refreshes = b.calls.filter((c) => c.path === '/refresh');
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.every((c) => c.signed)).toBe(true);
    expect(refreshes[0]?.body).toMatchObject({
      connection: ada.session,
      user: 'ada',
      caps: ALL_CAPS,
      data: { cookie: 'ada' },
    });
    // The answer's data replaces what the next refresh sends; its caps are the session's from then on.
    expect(refreshes[1]?.body).toMatchObject({ caps: CHAT_ONLY, data: { cookie: 'rotated', was: { cookie: 'ada' } } });
    expect(sessionOf(server, ada.c)?.principal?.can.allows('subscribe', 'open:y')).toBe(false);
  });

  it('ends the session with TOKEN_EXPIRED when the backend answers expired or refuses', async () => {
    const { server } = await refreshServer(
      () => Date.now() + 900,
      (user) =>
        user === 'gone'
          ? { json: { expired: true } }
          : { json: { error: { code: 'revoked', message: 'Signed out elsewhere.' } } },
    );
    for (const user of ['gone', 'banned']) {
      const u = await proxied(server, user);
      const errors: string[] = [];
      u.c.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
      await waitFor(
        () => u.codes.length > 0,
        5_000,
        () => `${user}: codes ${u.codes}`,
      );
      expect(u.codes[0], user).toBe(CLOSE_CODES.TOKEN_EXPIRED.code);
      expect(errors[0], user).toBe(
        user === 'gone' ? 'token_expired: The session expired.' : 'token_expired: Signed out elsewhere.',
      );
      u.c.close();
    }
  });

  it('ends a session whose backend hangs at its expiry with unavailable (INTERNAL), serving the others meanwhile', async () => {
    const expiries = new Map<string, number>();
    const { server, backend: b } = await refreshServer(
      (user) => {
        const at = Date.now() + (user === 'hang' ? 3_000 : 900);
        // The first grant (the client reconnects after the close).
        if (!expiries.has(user)) expiries.set(user, at);
        return at;
      },
      (user) => (user === 'hang' ? 'hang' : { json: { expiresAt: Date.now() + 900 } }),
    );
    const hang = await proxied(server, 'hang');
    const errors: string[] = [];
    hang.c.on('error', (e) => errors.push(e.code));
    const ada = await proxied(server, 'ada');
    const got: unknown[] = [];
    await ada.c.subscribe('chat:room', { onPublication: (p) => got.push(p.data) }).ready;
    let closedAt = 0;
    hang.c.on('state', (e) => {
      if (e.code !== undefined && closedAt === 0) closedAt = Date.now();
    });
    let n = 0;
    while (closedAt === 0 && n < 100) {
      await ada.c.publish('chat:room', { n: ++n });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(hang.codes[0]).toBe(CLOSE_CODES.INTERNAL.code);
    expect(errors[0]).toBe('unavailable');
    // Asked (and retried) before expiry, ended at expiry, not before and not a sweep later.
    expect(b.calls.filter((c) => c.path === '/refresh' && c.body.user === 'hang').length).toBeGreaterThanOrEqual(2);
    const expiry = expiries.get('hang') as number;
    expect(closedAt).toBeGreaterThanOrEqual(expiry - 20);
    expect(closedAt).toBeLessThan(expiry + 600);
    await waitFor(
      () => got.length === n,
      5_000,
      () => `ada got ${got.length} of ${n}`,
    );
    expect({ state: ada.c.state, session: ada.c.info?.session }).toEqual({ state: 'connected', session: ada.session });
  });

  /** Twelve connections granted the same expiry; refreshes answered after `delayMs`. Returns when all were refreshed. */
  async function stampede(maxInFlight: number, delayMs: number) {
    let shared: number | undefined;
    const arrivals: number[] = [];
    const { server, backend: b } = await refreshServer(
      () => {
        shared ??= Date.now() + 3_000;
        return shared;
      },
      async () => {
        arrivals.push(Date.now());
        await new Promise((r) => setTimeout(r, delayMs));
        return { json: { expiresAt: Date.now() + 60_000 } };
      },
      { maxInFlight },
    );
    const clients = await Promise.all(Array.from({ length: 12 }, (_, i) => proxied(server, `u${i}`)));
    await waitFor(
      () => arrivals.length === clients.length,
      8_000,
      () => `${arrivals.length} refreshes`,
    );
    await waitFor(
      () => Date.now() > (shared as number) + 300,
      5_000,
      () => 'time',
    );
    const alive = clients.filter((u) => u.c.state === 'connected' && u.codes.length === 0).length;
    return { arrivals, alive, maxOpen: b.maxOpen.get('/refresh'), clients: clients.length };
  }

  it('spreads the refreshes of connections expiring together over a jittered window', async () => {
    const r = await stampede(256, 0);
    expect(r.alive).toBe(r.clients);
    // Due at one moment they would arrive within a few ms; jittered they spread over ~500 ms.
    expect(Math.max(...r.arrivals) - Math.min(...r.arrivals)).toBeGreaterThan(150);
  });

  it('keeps at most half of maxInFlight refreshes in flight; the others wait their turn and still succeed', async () => {
    const r = await stampede(4, 60);
    expect(r.maxOpen).toBeLessThanOrEqual(2);
    expect(r.alive).toBe(r.clients);
  });

  it('never refreshes a connection more often than refreshMinIntervalMs: a shorter grant simply ends', async () => {
    const { server, backend: b } = await refreshServer(
      () => Date.now() + 1_200,
      () => ({ json: { expiresAt: Date.now() + 150 } }),
      { refreshMinIntervalMs: 1_000 },
    );
    const brief = await proxied(server, 'brief');
    await waitFor(
      () => brief.codes.length > 0,
      5_000,
      () => 'closed',
    );
    expect(brief.codes[0]).toBe(CLOSE_CODES.TOKEN_EXPIRED.code);
    expect(b.calls.filter((c) => c.path === '/refresh' && c.body.connection === brief.session).length).toBe(1);
    await expect(startServer({ proxy: { connect: b.url, refresh: b.url, refreshMinIntervalMs: 10 } })).rejects.toThrow(
      /refreshMinIntervalMs must be at least 100/,
    );
    await expect(startServer({ proxy: { refresh: b.url } })).rejects.toThrow(/needs proxy.connect/);
    // The JSON config takes the same options and refuses the same value.
    const json = (refreshMinIntervalMs: number) =>
      JSON.stringify({ proxy: { connect: b.url, refresh: b.url, refreshMinIntervalMs } });
    expect(parseConfigFile(json(500), 'c.json').proxy).toMatchObject({ refresh: b.url, refreshMinIntervalMs: 500 });
    expect(() => parseConfigFile(json(10), 'c.json')).toThrow(/refreshMinIntervalMs/);
  });
});
