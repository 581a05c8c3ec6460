import type { ReceivedPublication, SubscribedEvent } from '@syncline/client';
import { RedisBroker } from '@syncline/redis';
import { eventually } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { dropPrefix, REDIS_URL, redisBroker, redisService, testPrefix } from './cluster/redis-env.js';
import { client, describeValue, startServer, waitFor, waitForValue } from './helpers.js';

describe.runIf(redisService.available)('epoch changes on a Redis broker', () => {
  it('makes every local subscriber resubscribe and report recovered: false, then delivers the new epoch', async () => {
    const prefix = testPrefix();
    const a = await startServer({ broker: await redisBroker(prefix) });
    const b = await startServer({ broker: await redisBroker(prefix) });
    const subscribers = await Promise.all([client(a, 'u1'), client(a, 'u2'), client(b, 'u3')]);
    const got = subscribers.map(() => [] as ReceivedPublication[]);
    const events = subscribers.map(() => [] as SubscribedEvent[]);
    const subs = subscribers.map((c, i) => {
      const s = c.subscribe('chat:reset', { onPublication: (p) => got[i]?.push(p) });
      s.on('subscribed', (e) => events[i]?.push(e));
      return s;
    });
    await Promise.all(subs.map((s) => s.ready));
    const oldEpoch = (await a.publish('chat:reset', 'before')).epoch;
    await waitForValue(
      () => got.map((g) => g.length),
      got.map(() => 1),
      5_000,
      'publication counts per subscriber',
    );

    // Redis loses every key of the deployment (a restart without persistence).
    await dropPrefix(REDIS_URL, prefix);
    const after = await b.publish('chat:reset', 'after-1');
    expect(after.epoch).not.toBe(oldEpoch);
    expect(after.offset).toBe(1);

    await waitFor(
      () => events.every((e) => e.some((x) => x.recovered === false && x.epoch === after.epoch)),
      10_000,
      () =>
        `wanted every subscriber resubscribed into epoch ${after.epoch} with recovered: false, saw ${describeValue(
          events.map((e) => e.map((x) => `${x.epoch}${x.recovered ? '' : ' (not recovered)'}`)),
        )}`,
    );
    for (const s of subs) expect(s.state).toBe('subscribed');
    await a.publish('chat:reset', 'after-2');
    await waitFor(
      () => got.every((g) => g.some((p) => p.data === 'after-2')),
      5_000,
      () => `wanted after-2 at every subscriber, saw ${describeValue(got.map((g) => g.map((p) => p.data)))}`,
    );
    for (const g of got) {
      expect(g[0]?.data).toBe('before');
      expect(g.at(-1)?.data).toBe('after-2');
      expect(g.filter((p) => p.data === 'after-2')).toHaveLength(1);
    }
  });
});

describe.runIf(redisService.available)('offset gaps on a Redis broker', () => {
  it('fetches a publication missing from the live stream from history before delivering past it', async () => {
    const prefix = testPrefix();
    const server = await startServer({ broker: await redisBroker(prefix) });
    const c = await client(server, 'u1');
    const got: ReceivedPublication[] = [];
    const events: SubscribedEvent[] = [];
    const sub = c.subscribe('chat:gap', { onPublication: (p) => got.push(p) });
    sub.on('subscribed', (e) => events.push(e));
    await sub.ready;
    await server.publish('chat:gap', 'one');
    await waitForValue(() => got.map((p) => p.data), ['one'], 5_000, 'publication data');
    // A publication whose fan-out message was lost: in Redis history, never on the live stream.
    const redis = new Redis(REDIS_URL);
    try {
      const meta = `${prefix}{chat:gap}:m`;
      const offset = await redis.hincrby(meta, 'o', 1);
      await redis.xadd(`${prefix}{chat:gap}:s`, `${offset}-0`, 'd', JSON.stringify('lost'), 't', String(Date.now()));
    } finally {
      redis.disconnect();
    }
    await server.publish('chat:gap', 'three');
    await waitForValue(
      () => got.map((p) => [p.offset, p.data]),
      [
        [1, 'one'],
        [2, 'lost'],
        [3, 'three'],
      ],
      5_000,
      'offsets and data (gap repaired)',
    );
    expect(got.map((p) => [p.offset, p.data])).toEqual([
      [1, 'one'],
      [2, 'lost'],
      [3, 'three'],
    ]);
    expect(events).toHaveLength(1);
  });

  it('gives an abandoned channel a new epoch once its meta key expired', async () => {
    const prefix = testPrefix();
    const broker = await RedisBroker.connect({ url: REDIS_URL, prefix, metaTtlMs: 150 });
    try {
      const history = { size: 10, ttlMs: 100 };
      const first = await broker.publish({ channel: 'chat:old', data: 1, history });
      await eventually(async () => (await broker.top('chat:old')).epoch !== first.epoch, 'meta expiry', 5_000);
      const next = await broker.publish({ channel: 'chat:old', data: 2, history });
      expect(next.offset).toBe(1);
      expect(next.epoch).not.toBe(first.epoch);
    } finally {
      await broker.close();
    }
  });
});
