import type { ReceivedPublication, SubscribedEvent } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { dropPrefix, REDIS_URL, redisBroker, redisService, testPrefix } from './cluster/redis-env.js';
import { client, startServer, waitFor } from './helpers.js';

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
    await waitFor(() => got.every((g) => g.length === 1), 5_000, 'first publication');

    // Redis loses every key of the deployment (a restart without persistence).
    await dropPrefix(REDIS_URL, prefix);
    const after = await b.publish('chat:reset', 'after-1');
    expect(after.epoch).not.toBe(oldEpoch);
    expect(after.offset).toBe(1);

    await waitFor(
      () => events.every((e) => e.some((x) => x.recovered === false && x.epoch === after.epoch)),
      10_000,
      'every subscriber resubscribed into the new epoch',
    );
    for (const s of subs) expect(s.state).toBe('subscribed');
    await a.publish('chat:reset', 'after-2');
    await waitFor(() => got.every((g) => g.some((p) => p.data === 'after-2')), 5_000, 'new-epoch publication');
    for (const g of got) {
      expect(g[0]?.data).toBe('before');
      expect(g.at(-1)?.data).toBe('after-2');
      expect(g.filter((p) => p.data === 'after-2')).toHaveLength(1);
    }
  });
});
