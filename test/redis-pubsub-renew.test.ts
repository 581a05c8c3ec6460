import { PubSubBus } from '@syncline/redis';
import { describe, expect, it } from 'vitest';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import { clusterPrefix, sharedRedisCluster } from './cluster/redis-cluster-fixture.js';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { defer, waitFor } from './helpers.js';

/**
 * `PubSubBus.renew` (the check after a reconnect that a subscription is in
 * effect): the channel keeps its listener and gets each payload once, and a
 * channel unsubscribed meanwhile stays unsubscribed.
 */
async function renewKeepsOneSubscription(options: { url?: string; cluster?: readonly string[] }, prefix: string) {
  const bus = new PubSubBus(options);
  await bus.connect();
  defer(() => bus.close());
  const publisher = new PubSubBus(options);
  await publisher.connect();
  defer(() => publisher.close());
  const channel = `${prefix}renew`;
  const got: string[] = [];
  await bus.subscribe(channel, (p) => got.push(p), { timeoutMs: 5_000 });
  // Renewed several times, some at once: still one subscription, in effect once each renew resolves.
  await Promise.all([bus.renew(channel), bus.renew(channel)]);
  await bus.renew(channel);
  expect(await publisher.publish(channel, 'a')).toBe(1);
  // A repeat of 'a' would arrive before 'end' (one connection delivers in order).
  expect(await publisher.publish(channel, 'end')).toBe(1);
  await waitFor(() => got.includes('end'), 5_000, 'the payloads');
  expect(got).toEqual(['a', 'end']);

  // Unsubscribed while a renew is in flight: the renew does not subscribe it again.
  const renewing = bus.renew(channel);
  await bus.unsubscribe(channel);
  await renewing;
  expect(await publisher.publish(channel, 'b')).toBe(0);
  expect(got).toEqual(['a', 'end']);
  // A channel never subscribed: nothing to renew.
  await bus.renew(`${prefix}other`);
  expect(await publisher.publish(`${prefix}other`, 'c')).toBe(0);
}

describe.runIf(redisService.available)('PubSubBus.renew on Redis', () => {
  it('keeps one subscription, in effect when it resolves, and leaves an unsubscribed channel alone', async () => {
    await renewKeepsOneSubscription({ url: REDIS_URL }, testPrefix());
  });
});

describe.runIf(redisClusterService.available)('PubSubBus.renew on a Redis Cluster', () => {
  const cluster = sharedRedisCluster(redisClusterService.available, { masters: 3 });
  it('keeps one sharded subscription, in effect when it resolves, and leaves an unsubscribed channel alone', async () => {
    await renewKeepsOneSubscription({ cluster: cluster().seeds }, clusterPrefix());
  }, 30_000);
});
