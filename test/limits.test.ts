import type { StateChange, SynclineError } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, describeValue, startServer, TEST_NAMESPACES, waitFor, waitForValue, waitState } from './helpers.js';

describe('limits', () => {
  it('max channels per connection: the next subscribe gets limit_exceeded, the connection stays', async () => {
    const server = await startServer({
      limits: { maxChannelsPerConnection: 3 },
      namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    });
    const c = await client(server, 'alice');
    await Promise.all(['chat:1', 'chat:2', 'chat:3'].map((ch) => c.subscribe(ch).ready));
    const fourth = c.subscribe('chat:4');
    const err = (await fourth.ready.catch((e: unknown) => e)) as SynclineError;
    expect(err.code).toBe('limit_exceeded');
    expect(err.details).toEqual({ limit: 'maxChannelsPerConnection', value: 3 });
    expect(fourth.state).toBe('unsubscribed');
    expect(c.state).toBe('connected');
    // Freeing a slot makes room again.
    c.getSubscription('chat:1')?.unsubscribe();
    await waitForValue(
      () => server.channels.localCounts().get('chat:1'),
      undefined,
      5_000,
      'hub subscribers of chat:1',
    );
    await c.subscribe('chat:5').ready;
    // Presence entries have the same bound.
    for (const ch of ['room:1', 'room:2', 'room:3']) await c.presence(ch).enter({});
    await expect(c.presence('room:4').enter({})).rejects.toMatchObject({ code: 'limit_exceeded' });
  });

  it('max connections per user: the extra connection is refused with too_many_connections', async () => {
    const server = await startServer({ limits: { maxConnectionsPerUser: 2 } });
    const a = await client(server, 'alice');
    const b = await client(server, 'alice');
    await Promise.all([waitState(a, 'connected'), waitState(b, 'connected')]);
    const third = await client(server, 'alice');
    const errors: string[] = [];
    third.on('error', (e) => errors.push(e.code));
    const states: StateChange[] = [];
    third.on('state', (s) => states.push(s));
    await waitFor(
      () => errors.includes('too_many_connections'),
      5_000,
      () => `wanted a too_many_connections error, saw errors ${describeValue(errors)}`,
    );
    await waitFor(
      () => states.some((s) => s.code === CLOSE_CODES.TOO_MANY_CONNECTIONS.code),
      5_000,
      () => `wanted close code ${CLOSE_CODES.TOO_MANY_CONNECTIONS.code}, saw state changes ${describeValue(states)}`,
    );
    expect(third.state).not.toBe('connected');
    expect(server.core.sessionsOf('alice').size).toBe(2);
    // Another user is not affected; once a slot frees up, the third gets in by itself.
    const bob = await client(server, 'bob');
    await waitState(bob, 'connected');
    a.close();
    await waitState(third, 'connected', 10_000);
  });

  it('max connections per user holds under concurrent connects with a slow onConnect hook', async () => {
    const server = await startServer({
      limits: { maxConnectionsPerUser: 2 },
      hooks: { onConnect: () => new Promise((r) => setTimeout(r, 50)) },
    });
    const clients = await Promise.all(
      Array.from({ length: 6 }, () =>
        client(server, 'alice', { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } }),
      ),
    );
    const refused = new Set<number>();
    for (const [i, c] of clients.entries()) {
      c.on('error', (e) => {
        if (e.code === 'too_many_connections') refused.add(i);
      });
    }
    await waitForValue(() => refused.size, 4, 10_000, 'refused client count');
    await waitFor(
      () => clients.filter((c) => c.state === 'connected').length === 2,
      10_000,
      () => `wanted two clients connected, saw client states ${describeValue(clients.map((c) => c.state))}`,
    );
    expect(server.core.sessionsOf('alice').size).toBe(2);
  });

  it('publish rate per connection: a burst past the bucket gets rate_limited with retryAfterMs', async () => {
    const server = await startServer({ limits: { publishRatePerSec: 5, publishBurst: 5 } });
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    // Raw publish commands: `client.publish` would wait out the refusals itself (test/core-sdk-load.test.ts).
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => c.request({ type: 'publish', channel: 'chat:rate', data: i })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const limited = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as SynclineError);
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThan(20);
    expect(limited.length).toBe(20 - ok.length);
    for (const e of limited) {
      expect(e.code).toBe('rate_limited');
      expect(e.retryAfterMs).toBeGreaterThan(0);
    }
    expect(c.state).toBe('connected');
    // Nothing of the refused publishes was stored.
    const history = await c.history('chat:rate', { limit: 100 });
    expect(history.publications).toHaveLength(ok.length);
    // Retrying after the hinted delay succeeds once the bucket has refilled.
    const deadline = Date.now() + 10_000;
    let later: { offset: number } | undefined;
    while (!later) {
      try {
        later = await c.request({ type: 'publish', channel: 'chat:rate', data: 'later' });
      } catch (e) {
        const err = e as SynclineError;
        if (err.code !== 'rate_limited' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, err.retryAfterMs));
      }
    }
    expect(later.offset).toBe(ok.length + 1);
  });
});
