import type { ReceivedPublication, SynclineError } from '@syncline/client';
import type { PublishResult } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, describeValue, startServer, waitFor, waitForValue, waitState } from './helpers.js';

/** 0, 1, … n-1. */
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A subscriber of `channel` that records every publication it receives. */
async function subscriber(server: Awaited<ReturnType<typeof startServer>>, channel: string) {
  const reader = await client(server, 'reader');
  const got: ReceivedPublication[] = [];
  await reader.subscribe(channel, { onPublication: (p) => got.push(p) }).ready;
  return got;
}

/** Checks that `got` holds publications 1…n once each, in order, with data 0…n-1. */
async function expectAllInOrder(got: ReceivedPublication[], n: number, timeoutMs: number): Promise<void> {
  await waitForValue(() => got.length, n, timeoutMs, 'publications received');
  expect(got.map((p) => p.offset)).toEqual(upTo(n).map((i) => i + 1));
  expect(got.map((p) => p.data)).toEqual(upTo(n));
}

describe('the SDK under publish load', () => {
  it('1,000 awaited publishes in a loop succeed with the default limits (50/s, burst 100)', async () => {
    const server = await startServer();
    const got = await subscriber(server, 'chat:loop');
    const c = await client(server, 'alice');
    const results: PublishResult[] = [];
    const started = Date.now();
    for (const i of upTo(1_000)) results.push(await c.publish('chat:loop', i));
    // Past the burst the server refused publishes: the SDK waited them out (900 at 50/s take 18 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(17_000);
    expect(results.map((r) => r.offset)).toEqual(upTo(1_000).map((i) => i + 1));
    expect(results.filter((r) => r.duplicate)).toEqual([]);
    await expectAllInOrder(got, 1_000, 10_000);
  }, 60_000);

  it('1,000 publishes fired at once all resolve, with offsets in call order', async () => {
    // A small burst and a fast refill: 950 of them are refused at least once, in well under the 15 s request timeout.
    const server = await startServer({ limits: { publishRatePerSec: 500, publishBurst: 50 } });
    const got = await subscriber(server, 'chat:burst');
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    const started = Date.now();
    const results = await Promise.all(upTo(1_000).map((i) => c.publish('chat:burst', i)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_800);
    expect(results.map((r) => r.offset)).toEqual(upTo(1_000).map((i) => i + 1));
    await expectAllInOrder(got, 1_000, 10_000);
    // Another channel of the same connection shares the server's bucket but keeps its own order.
    const other = await Promise.all(upTo(100).map((i) => c.publish(`chat:other`, i)));
    expect(other.map((r) => r.offset)).toEqual(upTo(100).map((i) => i + 1));
  }, 60_000);

  it('a publish whose retry would end past the request timeout rejects at once with rate_limited', async () => {
    const server = await startServer({ limits: { publishRatePerSec: 1, publishBurst: 1 } });
    const c = await client(server, 'alice', { requestTimeoutMs: 600 });
    await waitState(c, 'connected');
    expect((await c.publish('chat:slow', 'first')).offset).toBe(1);
    // The bucket refills in 1 s: neither publish can go out within its 600 ms; nothing is published.
    const started = Date.now();
    const outcomes = await Promise.allSettled([c.publish('chat:slow', 'a'), c.publish('chat:slow', 'b')]);
    const codes = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as SynclineError).code : 'ok'));
    expect(codes).toEqual(['rate_limited', 'rate_limited']);
    expect(Date.now() - started).toBeLessThan(600);
    const history = await c.history('chat:slow');
    expect(history.publications.map((p) => p.data)).toEqual(['first']);
  });
});

describe('the SDK with a refused token', () => {
  it('without getToken: publish, subscribe and history fail at once with unauthorized, waiting ones too', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', { token: 'not-a-token' });
    // Made before the connect is refused: it waits, then fails with the refusal.
    const early = c.publish('chat:x', 'early');
    await expect(early).rejects.toMatchObject({ code: 'unauthorized' });
    await waitFor(
      () => c.lastChange?.reason === 'unauthorized',
      5_000,
      () => `wanted the state reason unauthorized, saw ${describeValue(c.lastChange)}`,
    );
    const started = Date.now();
    await expect(c.publish('chat:x', 1)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(c.history('chat:x')).rejects.toMatchObject({ code: 'unauthorized' });
    const sub = c.subscribe('chat:x');
    await expect(sub.ready).rejects.toMatchObject({ code: 'unauthorized' });
    expect(sub.state).toBe('unsubscribed');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(c.state).toBe('disconnected');
  });

  it('with a getToken that fails: requests fail at once with unauthorized while it keeps failing', async () => {
    const server = await startServer();
    const c = await client(server, 'alice', {
      getToken: async () => {
        throw new Error('auth service down');
      },
    });
    await expect(c.publish('chat:x', 'early')).rejects.toMatchObject({ code: 'unauthorized' });
    const started = Date.now();
    await expect(c.history('chat:x')).rejects.toMatchObject({ code: 'unauthorized', message: 'getToken failed.' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
