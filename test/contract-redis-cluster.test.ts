import {
  connectRedis,
  RedisBroker,
  RedisChannelCounts,
  RedisPresenceStore,
  RedisRevocationStore,
} from '@syncline/redis';
import {
  brokerContract,
  channelCountsStoreContract,
  eventually,
  presenceStoreContract,
  revocationStoreContract,
} from '@syncline/testing';
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import {
  clusterClient,
  clusterPrefix,
  dropClusterPrefix,
  sharedRedisCluster,
} from './cluster/redis-cluster-fixture.js';

// The contract suites, unchanged, on a Redis Cluster of three masters: every
// channel's keys on the shard of its hash tag, fan-out over sharded pub/sub.
describe.runIf(redisClusterService.available)('Redis Cluster', () => {
  const cluster = sharedRedisCluster(redisClusterService.available, { masters: 3 });

  brokerContract({
    name: 'RedisBroker on a Redis Cluster',
    multiNode: true,
    canLoseEverything: true,
    async create() {
      const prefix = clusterPrefix();
      const brokers: RedisBroker[] = [];
      return {
        async node() {
          const b = await RedisBroker.connect({ cluster: cluster().seeds, prefix });
          brokers.push(b);
          return b;
        },
        loseEverything: () => dropClusterPrefix(cluster(), prefix),
        async close() {
          for (const b of brokers) await b.close();
          await dropClusterPrefix(cluster(), prefix);
        },
      };
    },
  });

  /** A fresh key space with one cluster client per opened store. */
  function backend<T>(make: (redis: Cluster, prefix: string) => T) {
    return async () => {
      const prefix = clusterPrefix();
      const conns: Cluster[] = [];
      return {
        async open() {
          const redis = await clusterClient(cluster().seeds);
          conns.push(redis);
          return make(redis, prefix);
        },
        async close() {
          for (const c of conns) c.disconnect();
          await dropClusterPrefix(cluster(), prefix);
        },
      };
    };
  }

  presenceStoreContract({
    name: 'RedisPresenceStore on a Redis Cluster',
    multiNode: true,
    create: backend((redis, prefix) => new RedisPresenceStore({ redis, prefix })),
  });
  revocationStoreContract({
    name: 'RedisRevocationStore on a Redis Cluster',
    multiNode: true,
    create: backend((redis, prefix) => new RedisRevocationStore({ redis, prefix })),
  });
  channelCountsStoreContract({
    name: 'RedisChannelCounts on a Redis Cluster',
    create: backend((redis, prefix) => new RedisChannelCounts({ redis, prefix })),
  });

  it('records publications of listed namespaces in the feed on its own shard, relayed once in offset order; occupancy transitions once', async () => {
    const prefix = clusterPrefix();
    const nodes = await Promise.all(
      [0, 1].map(() =>
        connectRedis({
          cluster: cluster().seeds,
          prefix,
          publicationFeed: { leaseMs: 1_000, pollIntervalMs: 20, batchSize: 7 },
        }),
      ),
    );
    try {
      const relayed: Array<{ channel: string; offset: number; data: unknown }> = [];
      for (const n of nodes) {
        n.publicationFeed.start(new Set(['chat']), async (batch) => {
          relayed.push(...batch.map((p) => ({ channel: p.channel, offset: p.offset, data: p.data })));
        });
      }
      const history = { size: 100, ttlMs: 60_000 };
      for (let i = 1; i <= 20; i++) {
        await nodes[i % 2]?.broker.publish({ channel: 'chat:feed', data: { i }, key: `k${i}`, history });
        await nodes[i % 2]?.broker.publish({ channel: 'small:unlisted', data: { i }, history });
      }
      // A resend with the same key is a duplicate: not recorded again.
      await nodes[0]?.broker.publish({ channel: 'chat:feed', data: { i: 20 }, key: 'k20', history });
      await eventually(async () => relayed.length >= 20, 'the relay to hand on 20 publications', 10_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(relayed.map((p) => p.channel)).toEqual(Array(20).fill('chat:feed'));
      expect(relayed.map((p) => p.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(relayed.filter((_, i) => i < 20).every((p, i) => (p.data as { i: number }).i === i + 1)).toBe(true);

      // Occupancy: only the write that fills or empties a channel is told so.
      const occ = nodes.map((n) => n.occupancy);
      expect(await occ[0]?.set('chat:occ', 'n0', true)).toBe('occupied');
      expect(await occ[1]?.set('chat:occ', 'n1', true)).toBeUndefined();
      expect(await occ[0]?.set('chat:occ', 'n0', false)).toBeUndefined();
      expect(await occ[1]?.set('chat:occ', 'n1', false)).toBe('vacated');
    } finally {
      for (const n of nodes) await n.broker.close();
      await dropClusterPrefix(cluster(), prefix);
    }
  });
});
