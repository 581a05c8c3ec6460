/**
 * Console sessions across the nodes of a cluster, with no sticky routing:
 * nodes in this process on one Redis key space (and one PostgreSQL schema
 * for documents and the webhook outbox) accept each other's session cookies
 * and console tokens, refuse forged, tampered, foreign and expired ones, and
 * a sign-out on any node ends the session on all of them, including one
 * started later. Alone, a node keeps its sign-outs across a restart.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PostgresDocStore } from '@syncline/postgres';
import { CLOSE_CODES } from '@syncline/protocol';
import { connectRedisCluster } from '@syncline/redis';
import type { ServerOptions, SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, type ConsoleLogin, consoleLogin, consoleToken } from './admin-helpers.js';
import { freshSchema, postgresService } from './cluster/postgres-env.js';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { testDocNamespace } from './docs-fixtures.js';
import { client, defer, startServer, tempDir, waitState } from './helpers.js';

const OTHER_KEY = 'another-admin-key-0123456789-abcdef';
/** How soon a sign-out on one node must be honoured on another (it travels over the broker at once). */
const SIGN_OUT_SEEN_MS = 3_000;

/** A node of the test cluster: Redis broker and revocations under `prefix`, plus any extra options. */
async function node(prefix: string, nodeId: string, extra: Partial<ServerOptions> = {}): Promise<SynclineServer> {
  const parts = await connectRedisCluster({ url: REDIS_URL, prefix });
  return startServer({
    nodeId,
    broker: parts.broker,
    revocations: parts.revocations,
    admin: { key: ADMIN_KEY },
    ...extra,
  });
}

function get(server: SynclineServer, path: string, cookie: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { cookie } });
}

/** Status of `GET /admin/api/session` with a cookie. */
async function sessionStatus(server: SynclineServer, cookie: string): Promise<number> {
  return (await get(server, '/admin/api/session', cookie)).status;
}

/** A console write through the HTTP API (publish), with the session's CSRF header (or another). */
function publish(server: SynclineServer, login: ConsoleLogin, csrf = login.csrf): Promise<Response> {
  return fetch(`${server.url}/v1/publish`, {
    method: 'POST',
    headers: { cookie: login.cookie, 'x-syncline-csrf': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'chat:ops', data: { from: 'console' } }),
  });
}

/** Whether a console token connects and subscribes to the overview on a node (and gets a snapshot). */
async function tokenWorks(server: SynclineServer, token: string): Promise<boolean> {
  const c = await client(server, 'ignored', { token, reconnect: { minDelayMs: 10_000, maxDelayMs: 10_000 } });
  const outcome = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    c.subscribe('syncline-admin:overview', {
      onPublication: () => {
        clearTimeout(timer);
        resolve(true);
      },
    }).ready.catch(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  c.close();
  return outcome;
}

/** A cookie value in the documented format `<sid>.<signed in>.<expires>.<HMAC>`, signed under `key`. */
function signedCookie(key: string, at: number, exp: number, use: 'session' | 'token' = 'session'): string {
  const derived = Buffer.from(hkdfSync('sha256', key, 'syncline-admin-v1', `syncline-admin:${use}`, 32));
  const sid = randomBytes(16).toString('base64url');
  const mac = createHmac('sha256', derived).update(`${use}.${sid}.${at}.${exp}`).digest('base64url');
  return `${sid}.${at}.${exp}.${mac}`;
}

/** Flips the last character of a signature. */
function tampered(value: string): string {
  return `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
}

describe.runIf(redisService.available)('console sessions across nodes (Redis)', () => {
  it('a session of one node works on another: reads, CSRF-guarded writes, console tokens; a sign-out anywhere ends it everywhere', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'sess-a');
    const b = await node(prefix, 'sess-b');
    const login = await consoleLogin(a);

    // Read on b: the same session (same CSRF token), not a new one.
    const onB = await get(b, '/admin/api/session', login.cookie);
    expect(onB.status).toBe(200);
    expect(((await onB.json()) as { csrf: string; node: string }).csrf).toBe(login.csrf);
    // A write on b needs the session's CSRF token, which b derives itself.
    expect((await publish(b, login)).status).toBe(200);
    expect((await publish(b, login, tampered(login.csrf))).status).toBe(403);
    expect((await publish(b, login, '')).status).toBe(403);

    // A token minted on a connects on b and receives the overview; one minted on b connects on a.
    const tokenFromA = await consoleToken(a, login);
    const tokenFromB = await consoleToken(b, login);
    expect(await tokenWorks(b, tokenFromA)).toBe(true);
    expect(await tokenWorks(a, tokenFromB)).toBe(true);
    expect(await tokenWorks(b, tampered(tokenFromA))).toBe(false);

    // A second session stays live when the first signs out.
    const other = await consoleLogin(b);
    // Console connections open on a, one per session.
    const closes = new Map<string, (number | string | undefined)[]>();
    const watch = async (name: string, token: string) => {
      const c = await client(a, 'ignored', { token, reconnect: { minDelayMs: 10_000, maxDelayMs: 10_000 } });
      const codes: (number | string | undefined)[] = [];
      closes.set(name, codes);
      c.on('state', (s) => {
        if (s.previous === 'connected' && s.state !== 'connected') codes.push(s.code);
      });
      await waitState(c, 'connected');
    };
    await watch('ended', tokenFromA);
    await watch('other', await consoleToken(a, other));

    // Sign out on b (with the CSRF header); a refuses the cookie and the tokens soon after.
    const out = await fetch(`${b.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: login.cookie, 'x-syncline-csrf': login.csrf },
    });
    expect(out.status).toBe(200);
    expect(await sessionStatus(b, login.cookie)).toBe(401);
    await expect.poll(() => sessionStatus(a, login.cookie), { timeout: SIGN_OUT_SEEN_MS }).toBe(401);
    expect((await get(a, '/admin/api/token', login.cookie)).status).toBe(401);
    expect(await tokenWorks(a, tokenFromA)).toBe(false);
    expect(await tokenWorks(b, tokenFromB)).toBe(false);
    expect(await sessionStatus(a, other.cookie)).toBe(200);
    expect(await sessionStatus(b, other.cookie)).toBe(200);
    // a closed the open connection of the ended session (its client would need a new token), not the other's.
    await expect
      .poll(() => closes.get('ended'), { timeout: SIGN_OUT_SEEN_MS })
      .toEqual([CLOSE_CODES.TOKEN_EXPIRED.code]);
    expect(closes.get('other')).toEqual([]);

    // A node started after the sign-out asks the others for their sessions and refuses it too.
    const c = await node(prefix, 'sess-c');
    await expect.poll(() => sessionStatus(c, login.cookie), { timeout: SIGN_OUT_SEEN_MS }).toBe(401);
    expect(await sessionStatus(c, other.cookie)).toBe(200);
  });

  it('refuses forged, tampered, expired cookies and tokens and those of another admin key on every node', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'forge-a');
    const b = await node(prefix, 'forge-b');
    // A node of the same cluster misconfigured with another admin key: nothing it signs passes elsewhere.
    const stranger = await node(prefix, 'forge-x', { admin: { key: OTHER_KEY } });
    const login = await consoleLogin(a);
    const foreign = await consoleLogin(stranger, OTHER_KEY);
    const value = login.cookie.slice('syncline_admin='.length);
    const [sid, at, exp, mac] = value.split('.') as [string, string, string, string];
    const now = Date.now();
    const refused = [
      foreign.cookie,
      `syncline_admin=${tampered(value)}`,
      `syncline_admin=${sid}.${at}.${Number(exp) + 60_000}.${mac}`,
      `syncline_admin=${randomBytes(16).toString('base64url')}.${at}.${exp}.${mac}`,
      `syncline_admin=${signedCookie(OTHER_KEY, now, now + 60_000)}`,
      // Signed with the right key, but expired, or lasting longer than a session may.
      `syncline_admin=${signedCookie(ADMIN_KEY, now - 10 * 60 * 60_000, now - 60_000)}`,
      `syncline_admin=${signedCookie(ADMIN_KEY, now, now + 9 * 60 * 60_000)}`,
      `syncline_admin=${'x'.repeat(4_000)}`,
    ];
    for (const [name, server] of [['a', a] as const, ['b', b] as const]) {
      expect(await sessionStatus(server, login.cookie)).toBe(200);
      for (const cookie of refused)
        expect([name, cookie, await sessionStatus(server, cookie)]).toEqual([name, cookie, 401]);
    }
    expect(await sessionStatus(stranger, login.cookie)).toBe(401);
    expect(await sessionStatus(stranger, foreign.cookie)).toBe(200);
    // The well-formed session cookie from the right key is accepted on every node (the forgery helper is faithful).
    const crafted = `syncline_admin=${signedCookie(ADMIN_KEY, now, now + 60_000)}`;
    expect(await sessionStatus(b, crafted)).toBe(200);

    const expiredToken = `sla_${signedCookie(ADMIN_KEY, now - 60_000, now - 1_000, 'token')}`;
    const foreignToken = await consoleToken(stranger, foreign);
    const longToken = `sla_${signedCookie(ADMIN_KEY, now, now + 60 * 60_000, 'token')}`;
    const freshToken = `sla_${signedCookie(ADMIN_KEY, now, now + 60_000, 'token')}`;
    for (const [name, server] of [['a', a] as const, ['b', b] as const]) {
      for (const t of [expiredToken, foreignToken, longToken, `sla_${value}`]) {
        expect([name, t, await tokenWorks(server, t)]).toEqual([name, t, false]);
      }
    }
    expect(await tokenWorks(b, freshToken)).toBe(true);

    // The stranger's ledger (signed under its key) is ignored: its 32 sign-ins push none of ours out.
    for (let i = 0; i < 32; i++) await consoleLogin(stranger, OTHER_KEY);
    const last = await consoleLogin(stranger, OTHER_KEY);
    await fetch(`${stranger.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: last.cookie, 'x-syncline-csrf': last.csrf },
    });
    // A sign-out on b sent after the stranger's messages: once a has it, a has had theirs.
    const marker = await consoleLogin(b);
    await fetch(`${b.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: marker.cookie, 'x-syncline-csrf': marker.csrf },
    });
    await expect.poll(() => sessionStatus(a, marker.cookie), { timeout: SIGN_OUT_SEEN_MS }).toBe(401);
    expect(await sessionStatus(a, login.cookie)).toBe(200);
    expect(await sessionStatus(b, login.cookie)).toBe(200);
  });

  it('keeps the newest 32 sign-ins of the cluster: one more ends the oldest on every node', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'bound-a');
    const b = await node(prefix, 'bound-b');
    const first = await consoleLogin(a);
    expect(await sessionStatus(b, first.cookie)).toBe(200);
    const rest: ConsoleLogin[] = [];
    // Sign-ins alternate between the nodes: the bound is the cluster's, not each node's.
    for (let i = 1; i < 32; i++) rest.push(await consoleLogin(i % 2 === 0 ? a : b));
    expect(await sessionStatus(a, first.cookie)).toBe(200);
    rest.push(await consoleLogin(b));
    await expect.poll(() => sessionStatus(a, first.cookie), { timeout: SIGN_OUT_SEEN_MS }).toBe(401);
    expect(await sessionStatus(b, first.cookie)).toBe(401);
    for (const s of rest) {
      expect(await sessionStatus(a, s.cookie)).toBe(200);
      expect(await sessionStatus(b, s.cookie)).toBe(200);
    }
  });
});

describe.runIf(redisService.available && postgresService.available)(
  "the console's own reads across nodes (Redis and PostgreSQL)",
  () => {
    it('/admin/api/docs and /admin/api/webhooks answer the same on every node, with a session of any node', async () => {
      const prefix = testPrefix();
      const schema = await freshSchema();
      defer(() => schema.drop());
      const start = async (nodeId: string) => {
        const store = await PostgresDocStore.connect({ url: schema.url });
        const parts = await connectRedisCluster({ url: REDIS_URL, prefix, docStore: store });
        return startServer({
          nodeId,
          broker: parts.broker,
          revocations: parts.revocations,
          ...(parts.docFanout ? { docFanout: parts.docFanout } : {}),
          docStore: store,
          webhookOutbox: (settings) => store.webhookOutbox(settings),
          docs: { notes: testDocNamespace({ schemaVersion: 3 }) },
          // A receiver that is never there: the delivery fails for good after a short retry window.
          webhooks: [
            {
              url: 'http://127.0.0.1:9/hook',
              secret: 'hook-secret-0123456789',
              events: ['user.connected'],
              retryForMs: 300,
            },
          ],
          webhookDelivery: { timeoutMs: 500, retryBaseMs: 50, retryMaxMs: 100, pollIntervalMs: 50 },
          admin: { key: ADMIN_KEY },
        });
      };
      const a = await start('reads-a');
      const b = await start('reads-b');
      const login = await consoleLogin(a);
      for (const server of [a, b]) {
        const res = await get(server, '/admin/api/docs', login.cookie);
        expect(res.status).toBe(200);
        const body = (await res.json()) as {
          namespaces: { namespace: string; mutators: string[]; schemaVersion: number }[];
        };
        expect(body.namespaces.map((n) => [n.namespace, n.schemaVersion, n.mutators.includes('increment')])).toEqual([
          ['notes', 3, true],
        ]);
      }
      // One event for the shared outbox (a client connects to b), failed for good: both nodes count it.
      await waitState(await client(b, 'alice'), 'connected');
      const summary = async (server: SynclineServer) =>
        (await (await get(server, '/admin/api/webhooks', login.cookie)).json()) as {
          receivers: number;
          pending: number;
          failed: number;
        };
      await expect.poll(async () => (await summary(a)).failed, { timeout: 10_000 }).toBe(1);
      await expect
        .poll(async () => summary(b), { timeout: 5_000 })
        .toMatchObject({ receivers: 1, pending: 0, failed: 1 });
    });
  },
);

describe('console sessions on a single node', () => {
  it('without a database file end at a restart, and are not sessions of another such node', async () => {
    const first = await startServer({ admin: { key: ADMIN_KEY } });
    const other = await startServer({ admin: { key: ADMIN_KEY } });
    const login = await consoleLogin(first);
    expect(await sessionStatus(first, login.cookie)).toBe(200);
    expect(await sessionStatus(other, login.cookie)).toBe(401);
    await first.close();
    const again = await startServer({ admin: { key: ADMIN_KEY } });
    expect(await sessionStatus(again, login.cookie)).toBe(401);
  });

  it('keep their sign-outs across a restart; live sessions stay live', async () => {
    const dataDir = tempDir();
    const options = { database: join(dataDir, 'syncline.db'), admin: { key: ADMIN_KEY } };
    const first = await startServer(options);
    const out = await consoleLogin(first);
    const kept = await consoleLogin(first);
    await fetch(`${first.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: out.cookie, 'x-syncline-csrf': out.csrf },
    });
    await first.close();
    const second = await startServer(options);
    expect(await sessionStatus(second, out.cookie)).toBe(401);
    expect(await sessionStatus(second, kept.cookie)).toBe(200);
    // Another admin key after the restart ends every session.
    await second.close();
    const rotated = await startServer({ ...options, admin: { key: OTHER_KEY } });
    expect(await sessionStatus(rotated, kept.cookie)).toBe(401);
  });
});
