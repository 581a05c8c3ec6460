/**
 * The console's reads for its Documents and Webhooks pages over real
 * sockets: the document namespaces with their mutators, the webhook
 * outbox's counts (shared between consoles), the document deep links, and
 * the console token's document capability: read live, never mutate.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, type ConsoleLogin, consoleLogin, consoleToken } from './admin-helpers.js';
import { testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, refusal, SECRET, startServer, waitFor, waitState } from './helpers.js';
import { API_KEY } from './http-api-helpers.js';
import { startReceiver } from './webhooks-receiver.js';

/** GET of a console route with a session (or without one, or with the API key only). */
async function read(url: string, path: string, login?: ConsoleLogin, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { headers: { ...headers, ...(login ? { cookie: login.cookie } : {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('console reads: documents', () => {
  it('lists the document namespaces and their mutators to a signed-in console only', async () => {
    const server = await startServer({
      admin: { key: ADMIN_KEY },
      apiKey: API_KEY,
      docs: { notes: testDocNamespace(), boards: testDocNamespace({ undo: true, schemaVersion: 1 }) },
    });
    expect((await read(server.url, '/admin/api/docs')).status).toBe(401);
    // The API key is not a console session.
    const withKey = await read(server.url, '/admin/api/docs', undefined, { authorization: `Bearer ${API_KEY}` });
    expect(withKey.status).toBe(401);
    const login = await consoleLogin(server);
    const { status, body } = await read(server.url, '/admin/api/docs', login);
    expect(status).toBe(200);
    const names = Object.keys(testMutators).sort();
    expect(body).toEqual({
      namespaces: [
        { namespace: 'notes', mutators: names, schemaVersion: 1 },
        { namespace: 'boards', mutators: ['$undo', ...names].sort(), schemaVersion: 1 },
      ],
      truncated: false,
    });
  });

  it('serves the document pages as the console page, whatever the name', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY }, docs: { notes: testDocNamespace() } });
    for (const name of ['notes%3Aa', 'notes%3Av1.2.json', 'notes%3Aa%2Fb']) {
      const res = await fetch(`${server.url}/admin/docs/${name}`);
      expect({ name, status: res.status, type: res.headers.get('content-type') }).toEqual({
        name,
        status: 200,
        type: expect.stringMatching(/^text\/html/),
      });
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(await res.text()).toMatch(/<div id="root">/);
    }
  });

  it('gives console tokens a live read of documents, and no mutation, publish or presence', async () => {
    const server = await startServer({ admin: { key: ADMIN_KEY }, docs: { notes: testDocNamespace() } });
    await server.docs.mutate('notes:a', 'increment', { by: 2 });
    const login = await consoleLogin(server);
    const watcher = await client(server, 'ignored', { getToken: () => consoleToken(server, login) });
    await waitState(watcher, 'connected');
    const doc = watcher.doc('notes:a', { mutators: {} });
    await doc.ready;
    await waitFor(() => doc.version === 1, 5_000, 'version 1');
    expect(doc.current).toMatchObject({ count: 2 });

    // Another client's mutation arrives live.
    const alice = await client(server, 'alice');
    const aliceDoc = alice.doc('notes:a', { mutators: testMutators });
    await aliceDoc.ready;
    await aliceDoc.mutate.increment({ by: 3 });
    await waitFor(() => doc.version === 2, 5_000, 'version 2 on the console');
    expect(doc.current).toMatchObject({ count: 5 });

    // Its own mutation is refused and nothing changes.
    const own = watcher.doc('notes:b', { mutators: testMutators });
    expect((await refusal(own.mutate.increment({ by: 1 }))).code).toBe('forbidden');
    expect((await server.docs.get('notes:b')).version).toBe(0);
    expect((await refusal(watcher.publish('chat:lobby', 'hi'))).code).toBe('forbidden');
    // It may follow a channel (the channel page's tail), never read its history over the connection.
    await watcher.subscribe('chat:lobby').ready;
    expect((await refusal(watcher.history('chat:lobby'))).code).toBe('forbidden');
    expect((await server.docs.get('notes:a')).version).toBe(2);
  });
});

describe('console reads: webhooks', () => {
  it('counts receivers, pending and failed deliveries, one outbox read shared by many consoles', async () => {
    const receiver = await startReceiver();
    receiver.respond = () => 500;
    const server = await startServer({
      admin: { key: ADMIN_KEY },
      docs: { notes: testDocNamespace() },
      webhooks: [{ url: receiver.url, secret: SECRET, events: ['doc.committed'], retryForMs: 300 }],
      webhookDelivery: { retryBaseMs: 50, retryMaxMs: 100, pollIntervalMs: 50 },
    });
    expect((await read(server.url, '/admin/api/webhooks')).status).toBe(401);
    const login = await consoleLogin(server);
    expect((await read(server.url, '/admin/api/webhooks', login)).body).toEqual({
      receivers: 1,
      pending: 0,
      failed: 0,
      oldestPendingAt: null,
    });
    await server.docs.mutate('notes:a', 'increment', {});
    await expect
      .poll(async () => (await read(server.url, '/admin/api/webhooks', login)).body, { timeout: 10_000 })
      .toEqual({ receivers: 1, pending: 0, failed: 1, oldestPendingAt: null });
    // Many consoles at once all get an answer (from one shared read a second).
    const many = await Promise.all(Array.from({ length: 50 }, () => read(server.url, '/admin/api/webhooks', login)));
    expect(new Set(many.map((r) => r.status))).toEqual(new Set([200]));

    const none = await startServer({ admin: { key: ADMIN_KEY } });
    const other = await consoleLogin(none);
    expect((await read(none.url, '/admin/api/webhooks', other)).body).toMatchObject({ receivers: 0 });
  });
});
