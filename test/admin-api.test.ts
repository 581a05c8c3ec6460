/**
 * The operator console's HTTP side over real sockets: off without a key,
 * sign-in and its cookie, the sign-in rate limits, CSRF on writes, the
 * console session on the HTTP API, the key length rule, and the internal
 * namespace no app token reaches.
 */
import { createServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, consoleLogin, consoleToken, postLogin } from './admin-helpers.js';
import { client, refusal, SECRET, startServer, TEST_NAMESPACES, waitFor, waitState } from './helpers.js';
import { API_KEY, api } from './http-api-helpers.js';
import { captureLog } from './log-capture.js';

const OVERVIEW = 'syncline-admin:overview';

describe('operator console: HTTP', () => {
  it('does not exist without an admin key: /admin and everything under it is 404', async () => {
    const server = await startServer({ static: 'examples/chat/dist' });
    for (const [method, path] of [
      ['GET', '/admin'],
      ['GET', '/admin/'],
      ['GET', '/admin/overview'],
      ['GET', '/admin/api/token'],
      ['POST', '/admin/login'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect({ path, method, status: res.status }).toEqual({ path, method, status: 404 });
    }
  });

  it('refuses a short key in production and accepts it in dev mode', async () => {
    expect(() => createServer({ auth: { secret: SECRET }, admin: { key: 'short-key' } })).toThrow(
      /Refusing to start in production: the `admin` key is 9 bytes; use at least 32/,
    );
    const dev = await startServer({ dev: true, admin: { key: 'short-key' } });
    expect((await postLogin(dev.url, 'short-key')).status).toBe(200);
  });

  it('signs in with the key: an HttpOnly, SameSite=Strict session cookie; Secure over HTTPS through a trusted proxy', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY }, trustProxy: true });
    const wrong = await postLogin(server.url, 'x'.repeat(32));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const login = await consoleLogin(server);
    expect(login.setCookie).toMatch(
      /^syncline_admin=[A-Za-z0-9_-]{22}\.\d{13}\.\d{13}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/,
    );
    const session = await fetch(`${server.url}/admin/api/session`, { headers: { cookie: login.cookie } });
    expect(session.headers.get('cache-control')).toBe('no-store');
    expect(await session.json()).toMatchObject({ csrf: login.csrf, node: expect.any(String) });

    const secure = await postLogin(server.url, ADMIN_KEY, { 'x-forwarded-proto': 'https' });
    expect(secure.headers.get('set-cookie')).toMatch(/; Secure$/);
    // Without a trusted proxy the header is anybody's word.
    const plain = await startServer({ admin: { key: ADMIN_KEY } });
    const untrusted = await postLogin(plain.url, ADMIN_KEY, { 'x-forwarded-proto': 'https' });
    expect(untrusted.headers.get('set-cookie')).not.toMatch(/Secure/);

    // Signing out ends the session (and its cookie).
    const out = await fetch(`${server.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: login.cookie, 'x-syncline-csrf': login.csrf },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^syncline_admin=; Path=\/; Max-Age=0;/);
    expect((await fetch(`${server.url}/admin/api/session`, { headers: { cookie: login.cookie } })).status).toBe(401);
  });

  it('rate-limits failed sign-ins per address (429 + Retry-After, even with the right key) and in total', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY }, trustProxy: true });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 5; i++) expect((await postLogin(server.url, 'wrong', from('10.0.0.1'))).status).toBe(401);
    const limited = await postLogin(server.url, ADMIN_KEY, from('10.0.0.1'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited', retryAfterMs: expect.any(Number) } });
    // Another address still signs in.
    expect((await postLogin(server.url, ADMIN_KEY, from('10.0.0.2'))).status).toBe(200);
    // 50 failures in a window from any addresses close sign-in for everyone.
    for (let i = 0; i < 45; i++) await postLogin(server.url, 'wrong', from(`10.1.${i}.1`));
    const global = await postLogin(server.url, ADMIN_KEY, from('10.0.0.3'));
    expect(global.status).toBe(429);
  });

  it('refuses a write without the CSRF header or from another origin, and logs every write through the HTTP API', async () => {
    const log = captureLog('info');
    const server = await startServer({
      admin: { key: ADMIN_KEY },
      apiKey: 'api-key-0123456789abcdef',
      logger: log.logger,
    });
    const login = await consoleLogin(server);
    const publish = (headers: Record<string, string>) =>
      fetch(`${server.url}/v1/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: login.cookie, ...headers },
        body: JSON.stringify({ channel: 'chat:lobby', data: { text: 'from the console' } }),
      });
    const noHeader = await publish({});
    expect(noHeader.status).toBe(403);
    expect(await noHeader.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await publish({ 'x-syncline-csrf': 'not-the-token' })).status).toBe(403);
    expect((await publish({ 'x-syncline-csrf': login.csrf, origin: 'https://evil.example' })).status).toBe(403);
    const logout = await fetch(`${server.url}/admin/logout`, { method: 'POST', headers: { cookie: login.cookie } });
    expect(logout.status).toBe(403);
    const loginFromElsewhere = await postLogin(server.url, ADMIN_KEY, { origin: 'https://evil.example' });
    expect(loginFromElsewhere.status).toBe(403);

    const ok = await publish({ 'x-syncline-csrf': login.csrf, origin: server.url });
    expect(ok.status).toBe(200);
    const line = log.lines.find((l) => l.msg === 'admin: write through the HTTP API') as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/v1/publish',
      operation: 'publish',
      ip: '127.0.0.1',
    });
    expect(line.admin).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{8}$/));

    // Reads need no CSRF header; without a session the API key is still required.
    expect((await fetch(`${server.url}/v1/channels`, { headers: { cookie: login.cookie } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/channels`)).status).toBe(401);
  });

  it('serves the console pages under a strict CSP, hashed assets cached for a year', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY } });
    const page = await fetch(`${server.url}/admin/overview`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    const js = await fetch(`${server.url}${asset}`);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}/admin/assets/nothing-12345678.js`)).status).toBe(404);

    // Deep links of a page's item get the same page, under the same headers; nothing outside the build.
    const deep = await fetch(`${server.url}/admin/channels/chat%3Alobby.json`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await deep.text()).toBe(html);
    for (const path of ['/admin/%2E%2E/package.json', '/admin/..%2F..%2Fpackage.json/x', '/admin/.env/x']) {
      const res = await fetch(`${server.url}${path}`);
      expect({ path, status: res.status, leaked: (await res.text()).includes('"name"') }).toMatchObject({
        leaked: false,
      });
    }
  });
});

describe('operator console: the internal namespace', () => {
  it('is out of reach of app tokens, even with every capability; console tokens only subscribe (to it and to app channels)', async () => {
    const server = await startServer({
      admin: { key: ADMIN_KEY },
      apiKey: API_KEY,
      namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    });
    const app = await client(server, 'mallory');
    await waitState(app, 'connected');
    const refused = await refusal(app.subscribe(OVERVIEW).ready);
    expect(refused.code).toBe('forbidden');

    const login = await consoleLogin(server);
    const got: unknown[] = [];
    const consoleClient = await client(server, 'ignored', { getToken: () => consoleToken(server, login) });
    await consoleClient.subscribe(OVERVIEW, { onPublication: (p) => got.push(p.data) }).ready;
    expect(consoleClient.info?.user).toBe('syncline-admin');
    await waitFor(() => got.length > 0, 5_000, 'an overview snapshot');
    expect(got[0]).toMatchObject({
      node: server.core.nodeId,
      version: expect.any(String),
      protocol: { min: 1, max: 3 },
      ready: true,
      draining: false,
      connections: 2,
    });
    // App channels: subscribe only (the channel page's live tail); no publish, history or presence entry.
    const tail: unknown[] = [];
    await consoleClient.subscribe('chat:lobby', { onPublication: (p) => tail.push(p.data) }).ready;
    await app.publish('chat:lobby', { text: 'hi' });
    await waitFor(
      () => tail.length === 1,
      5_000,
      () => `tail ${JSON.stringify(tail)}`,
    );
    expect(tail).toEqual([{ text: 'hi' }]);
    expect((await refusal(consoleClient.publish('chat:lobby', { text: 'from the console' }))).code).toBe('forbidden');
    expect((await refusal(consoleClient.publish(OVERVIEW, { spoof: true }))).code).toMatch(
      /forbidden|publish_disabled/,
    );
    expect((await refusal(consoleClient.history('chat:lobby'))).code).toBe('forbidden');
    expect((await refusal(consoleClient.presence('room:a').enter({ spy: true }))).code).toBe('forbidden');
    expect((await api(server, 'GET', '/v1/channels/chat%3Alobby/history')).body.publications).toHaveLength(1);
    // The channel list leaves the server's own channels out unless their prefix is asked for.
    const listed = async (query: string) =>
      ((await api(server, 'GET', `/v1/channels${query}`)).body.channels as { channel: string }[]).map((c) => c.channel);
    expect(await listed('')).not.toContain(OVERVIEW);
    expect(await listed('?prefix=syncline-')).toEqual([OVERVIEW]);

    // Signed out: its tokens are refused.
    const token = await consoleToken(server, login);
    await fetch(`${server.url}/admin/logout`, {
      method: 'POST',
      headers: { cookie: login.cookie, 'x-syncline-csrf': login.csrf },
    });
    const late = await client(server, 'ignored', { token });
    await waitFor(() => late.state !== 'connecting', 5_000, 'a refusal');
    expect(late.state).not.toBe('connected');
  });

  it('cannot be declared by a config', () => {
    expect(() => createServer({ auth: { secret: SECRET }, namespaces: { 'syncline-admin': {} } })).toThrow(
      /Namespace "syncline-admin": names starting with "syncline-" are reserved for the server/,
    );
  });

  it('returns the node and its history to a signed-in console only', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY } });
    expect((await fetch(`${server.url}/admin/api/overview`)).status).toBe(401);
    const login = await consoleLogin(server);
    const overview = async () =>
      (await (await fetch(`${server.url}/admin/api/overview`, { headers: { cookie: login.cookie } })).json()) as {
        node?: { node: string };
        history: unknown[];
      };
    await expect.poll(async () => (await overview()).node?.node, { timeout: 5_000 }).toBe(server.core.nodeId);
    expect((await overview()).history).toEqual(expect.any(Array));
  });
});
