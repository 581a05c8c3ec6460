import type { StorageLike, SynclineClient } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { client, startServer, waitFor, waitForAtLeast, waitForValue, waitState } from './helpers.js';
import { startProxy } from './http-proxy.js';

/** An in-memory stand-in for the browser's sessionStorage. */
function memoryStorage(): StorageLike & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

const DEFAULT_LIST = ['websocket', 'sse', 'longpoll'] as const;

/** A client of `server` that connects through the proxy at `url` with the default transport list. */
function viaProxy(
  server: SynclineServer,
  url: string,
  storage: StorageLike,
  fallback: { timeoutMs?: number; probeIntervalMs?: number } = {},
  user = 'alice',
): Promise<SynclineClient> {
  return client(server, user, {
    url,
    transports: [...DEFAULT_LIST],
    fallback: { timeoutMs: 3_000, storage, ...fallback },
  });
}

describe('transport fallback behind a proxy', () => {
  it('ends up on SSE when the proxy refuses WebSocket upgrades, and works end to end with recovery after a cut', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'refuse' });
    const storage = memoryStorage();
    const c = await client(server, 'alice', {
      url: proxy.url,
      transports: [...DEFAULT_LIST],
      fallback: { timeoutMs: 3_000, storage },
    });
    await waitState(c, 'connected', 10_000);
    expect(c.transport).toBe('sse');
    expect(proxy.upgrades).toBeGreaterThan(0);
    expect([...storage.map.values()]).toEqual(['sse']);

    const got: number[] = [];
    const recovered: boolean[] = [];
    const sub = c.subscribe('chat:proxy', {
      onPublication: (p) => got.push(p.data as number),
      onRecovered: (r) => recovered.push(r),
    });
    await sub.ready;
    await c.publish('chat:proxy', 1);
    await waitForValue(() => got, [1], 5_000, 'publications');

    // Cut the network and keep it down while publications happen.
    proxy.mode.down = true;
    proxy.cut();
    await waitFor(
      () => c.state !== 'connected',
      10_000,
      () => `wanted the client to notice the cut, saw client state ${c.state}`,
    );
    for (let i = 2; i <= 6; i++) await server.publish('chat:proxy', i);
    proxy.mode.down = false;
    await waitForValue(() => got, [1, 2, 3, 4, 5, 6], 15_000, 'publications (missed ones recovered)');
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(recovered).toEqual([true]);
    // While the network is down every transport fails in turn, so whichever
    // fallback answers first once it is back is used; WebSocket stays refused.
    expect(['sse', 'longpoll']).toContain(c.transport);
    await c.publish('chat:proxy', 7);
    await waitForValue(() => got, [1, 2, 3, 4, 5, 6, 7], 5_000, 'publications after recovery');
  });

  it('falls back when a WebSocket upgrade hangs (first-frame timeout)', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'hang' });
    const c = await viaProxy(server, proxy.url, memoryStorage(), { timeoutMs: 500 });
    await waitState(c, 'connected', 10_000);
    expect(c.transport).toBe('sse');
  });

  it('falls back to long-polling when a proxy buffers streaming responses', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'refuse', buffer: true });
    const c = await viaProxy(server, proxy.url, memoryStorage(), { timeoutMs: 500 });
    await waitState(c, 'connected', 15_000);
    expect(c.transport).toBe('longpoll');
    const got: unknown[] = [];
    await c.subscribe('chat:lp', { onPublication: (p) => got.push(p.data) }).ready;
    await c.publish('chat:lp', 'hello');
    await waitForValue(() => got, ['hello'], 5_000, 'publications over long-polling');
  });

  it('remembers the working fallback for the session: a new client skips WebSocket', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'refuse' });
    const storage = memoryStorage();
    const a = await viaProxy(server, proxy.url, storage);
    await waitState(a, 'connected', 10_000);
    const upgradesAfterFirst = proxy.upgrades;
    expect(upgradesAfterFirst).toBe(1);
    const b = await viaProxy(server, proxy.url, storage, {}, 'bob');
    await waitState(b, 'connected', 10_000);
    expect(b.transport).toBe('sse');
    expect(proxy.upgrades).toBe(upgradesAfterFirst);
  });

  it('retries WebSocket in the background and uses it again once it works', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'refuse' });
    const storage = memoryStorage();
    const c = await viaProxy(server, proxy.url, storage, { probeIntervalMs: 200 });
    await waitState(c, 'connected', 10_000);
    expect(c.transport).toBe('sse');
    const probesBefore = proxy.upgrades;
    await waitForAtLeast(() => proxy.upgrades, probesBefore + 1, 5_000, 'WebSocket upgrades (a background probe)');
    expect(c.transport).toBe('sse');
    // WebSocket becomes possible: the probe succeeds and the memory is cleared.
    proxy.mode.upgrades = 'pass';
    await waitForValue(() => [...storage.map.entries()], [], 5_000, 'remembered fallbacks');
    // The live connection was not disturbed; the next connection uses WebSocket.
    expect(c.state).toBe('connected');
    c.disconnect();
    c.connect();
    await waitState(c, 'connected', 10_000);
    expect(c.transport).toBe('websocket');
  });

  it('reports a close when no transport can connect, then reconnects once the server is back', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.url, { upgrades: 'refuse', down: true });
    const c = await viaProxy(server, proxy.url, memoryStorage(), { timeoutMs: 500 });
    await waitForValue(() => c.state, 'disconnected', 10_000, 'client state');
    proxy.mode.down = false;
    await waitState(c, 'connected', 10_000);
    expect(c.transport).toBe('sse');
  });
});
