import type { SynclineError } from '@syncline/client';
import type { ProxyOptions } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { client, refusal, startServer, TEST_NAMESPACES, token, waitFor, waitForValue, waitState } from './helpers.js';
import { backend, PROXY_SECRET } from './proxy-backend.js';

const ALL_CAPS = [{ match: '*', allow: ['*'] }];

/** A backend with users by session cookie, a members-only channel, a word filter and one RPC method. */
function appBackend(state: { refuseRechecked: boolean }) {
  return backend((path, body) => {
    switch (path) {
      case '/connect': {
        const data = body.data as { cookie?: string } | null;
        if (data?.cookie === 'ada-session') return { json: { user: 'ada', caps: ALL_CAPS, data: { plan: 'pro' } } };
        if (data?.cookie === 'hang') return 'hang';
        if (data?.cookie === 'malformed') return { json: { user: 42 } };
        if (data?.cookie === 'boom') return { status: 500, json: { oops: true } };
        return { json: { error: { code: 'unauthorized', message: 'Sign in again.' } } };
      }
      case '/subscribe':
        if (body.channel === 'chat:secret') return { json: { error: { code: 'forbidden', message: 'Members only.' } } };
        if (body.channel === 'chat:slow') return 'hang';
        if (body.channel === 'chat:rechecked' && state.refuseRechecked)
          return { json: { error: { message: 'No longer.' } } };
        return { json: {} };
      case '/publish': {
        const data = body.data as { text?: string };
        if (data.text?.includes('spam')) return { json: { error: { code: 'invalid_data', message: 'No spam.' } } };
        return { json: { data: { ...data, checkedBy: 'backend' } } };
      }
      case '/rpc':
        if (body.method === 'whoami') return { json: { result: { user: body.user, connection: body.connection } } };
        return { json: { error: { code: 'not_found', message: `No method ${String(body.method)}.` } } };
      default:
        return { status: 404 };
    }
  });
}

async function proxyServer(proxy: (url: string) => ProxyOptions, state = { refuseRechecked: false }) {
  const b = await appBackend(state);
  const server = await startServer({
    namespaces: { ...TEST_NAMESPACES, open: {} },
    proxy: proxy(b.url),
  });
  return { server, backend: b };
}

const full = (url: string): ProxyOptions => ({
  connect: `${url}/connect`,
  subscribe: `${url}/subscribe`,
  publish: `${url}/publish`,
  rpc: `${url}/rpc`,
  namespaces: { open: {} },
  timeoutMs: 300,
  secret: PROXY_SECRET,
});

describe('proxy to the app backend', () => {
  it('authenticates a connect without a token from its data, and refuses what the backend refuses', async () => {
    const { server, backend: b } = await proxyServer(full);
    const ada = await client(server, 'anonymous', { connectData: { cookie: 'ada-session' } });
    await waitState(ada, 'connected');
    expect({ user: ada.info?.user, data: ada.info?.data }).toEqual({ user: 'ada', data: { plan: 'pro' } });
    const connect = b.calls.find((c) => c.path === '/connect');
    expect(connect?.body).toMatchObject({ data: { cookie: 'ada-session' }, connection: expect.any(String) });

    const errors: string[] = [];
    const stranger = await client(server, 'anonymous', { connectData: () => ({ cookie: 'nope' }) });
    stranger.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    await waitFor(
      () => errors.length > 0,
      5_000,
      () => `errors ${errors}`,
    );
    expect(errors[0]).toBe('unauthorized: Sign in again.');
    expect(b.calls.every((c) => c.signed)).toBe(true);
  });

  it('answers a backend that hangs, fails or answers nonsense quickly with unavailable, and serves others meanwhile', async () => {
    const { server } = await proxyServer(full);
    for (const cookie of ['hang', 'malformed', 'boom']) {
      const errors: SynclineError[] = [];
      const started = Date.now();
      const c = await client(server, 'anonymous', { connectData: { cookie } });
      c.on('error', (e) => errors.push(e));
      await waitFor(
        () => errors.length > 0,
        3_000,
        () => `no error for ${cookie}`,
      );
      expect(errors[0]?.code, cookie).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(2_000);
      c.close();
    }
    const ada = await client(server, 'anonymous', { connectData: { cookie: 'ada-session' } });
    await waitState(ada, 'connected');
  });

  it('lets the backend refuse subscribes and refuse or rewrite publishes; refusals reach the client, nothing refused is stored', async () => {
    const { server, backend: b } = await proxyServer(full);
    const ada = await client(server, 'ada');
    const secret = await refusal(ada.subscribe('chat:secret').ready);
    expect({ code: secret.code, message: secret.message }).toEqual({ code: 'forbidden', message: 'Members only.' });
    const got: unknown[] = [];
    await ada.subscribe('chat:room', { onPublication: (p) => got.push(p.data) }).ready;
    await ada.publish('chat:room', { text: 'hello' });
    const spam = await refusal(ada.publish('chat:room', { text: 'buy spam' }));
    expect({ code: spam.code, message: spam.message }).toEqual({ code: 'invalid_data', message: 'No spam.' });
    await waitForValue(() => got, [{ text: 'hello', checkedBy: 'backend' }], 5_000, 'delivered data');
    expect((await ada.history('chat:room')).publications.map((p) => p.data)).toEqual([
      { text: 'hello', checkedBy: 'backend' },
    ]);
    // A namespace listed with no URLs of its own falls back to the global ones.
    await ada.publish('open:x', { text: 'x' });
    expect(b.calls.filter((c) => c.path === '/publish').map((c) => c.body.channel)).toEqual([
      'chat:room',
      'chat:room',
      'open:x',
    ]);
    expect(b.calls.find((c) => c.path === '/publish')?.body).toMatchObject({ user: 'ada', channel: 'chat:room' });

    // A subscribe the backend never answers is answered within the timeout (the SDK's subscribe would retry it); the connection stays.
    const slow = await refusal(ada.request({ type: 'subscribe', channel: 'chat:slow' }));
    expect(slow.code).toBe('unavailable');
    expect(slow.retryAfterMs).toBeGreaterThan(0);
    expect(ada.state).toBe('connected');
  });

  it('forwards RPC calls the config does not define and returns the answer', async () => {
    const { server } = await proxyServer(full);
    const ada = await client(server, 'ada');
    const me = (await ada.rpc('whoami', { x: 1 })) as { user: string; connection: string };
    expect(me.user).toBe('ada');
    expect(me.connection).toBe([...server.core.sessions][0]?.id);
    const missing = await refusal(ada.rpc('nothing'));
    expect({ code: missing.code, message: missing.message }).toEqual({
      code: 'not_found',
      message: 'No method nothing.',
    });
  });

  it('asks again about subscriptions behind a subscribe proxy when the token is refreshed', async () => {
    const state = { refuseRechecked: false };
    const { server } = await proxyServer(full, state);
    let n = 0;
    const ada = await client(server, 'ada', { getToken: () => token('ada', undefined, ++n === 1 ? 3 : 3600) });
    const ended: string[] = [];
    const sub = ada.subscribe('chat:rechecked');
    sub.on('unsubscribed', (e) => ended.push(`${e.code}: ${e.message}`));
    await sub.ready;
    state.refuseRechecked = true;
    await waitFor(
      () => ended.length > 0,
      8_000,
      () => `ended ${ended}`,
    );
    expect(ended).toEqual(['forbidden: No longer.']);
  });

  it('reconnects a session the connect proxy granted until expiresAt through the proxy again; a refusal then is final', async () => {
    let grant = true;
    const b = await backend((path) => {
      if (path !== '/connect') return { json: {} };
      if (!grant) return { json: { error: { code: 'unauthorized', message: 'Signed out.' } } };
      return { json: { user: 'ada', caps: ALL_CAPS, expiresAt: Date.now() + 800 } };
    });
    const server = await startServer({
      namespaces: { ...TEST_NAMESPACES, open: {} },
      proxy: { connect: `${b.url}/connect`, timeoutMs: 300, secret: PROXY_SECRET },
    });
    const ada = await client(server, 'anonymous', { connectData: { cookie: 'ada-session' } });
    await waitState(ada, 'connected');
    const first = ada.info?.session;
    const got: unknown[] = [];
    await ada.subscribe('open:room', { onPublication: (p) => got.push(p.data) }).ready;
    // The grant runs out: the client connects through the proxy again, and its subscription resumes.
    await waitFor(
      () => ada.state === 'connected' && ada.info?.session !== first,
      6_000,
      () => `state ${ada.state}, connects ${b.calls.length}`,
    );
    const bob = await client(server, 'bob');
    await bob.publish('open:room', { n: 1 });
    await waitForValue(() => got, [{ n: 1 }], 5_000, 'delivered after the new grant');
    // The backend now refuses: the next expiry ends it for good, with the backend's refusal.
    grant = false;
    await waitFor(
      () => ada.state === 'disconnected' && ada.lastChange?.reason === 'unauthorized',
      6_000,
      () => `state ${ada.state}: ${ada.lastChange?.reason}`,
    );
    expect(await refusal(ada.publish('open:room', { n: 2 }))).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses calls past maxInFlight at once instead of queueing behind a hanging backend', async () => {
    const { server } = await proxyServer((url) => ({ ...full(url), timeoutMs: 2_000, maxInFlight: 1 }));
    const ada = await client(server, 'ada');
    const hanging = refusal(ada.request({ type: 'subscribe', channel: 'chat:slow' }));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const refused = await refusal(ada.request({ type: 'subscribe', channel: 'chat:other' }));
    expect(refused.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await hanging).code).toBe('unavailable');
  });

  it('refuses a proxy URL that is not http(s) when the server starts', async () => {
    await expect(startServer({ proxy: { subscribe: 'file:///etc/passwd' } })).rejects.toThrow(
      /proxy.subscribe must be an http\(s\) URL/,
    );
  });
});
