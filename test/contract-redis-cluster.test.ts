import { RedisBroker, RedisChannelCounts, RedisPresenceStore, RedisRevocationStore } from '@syncline/redis';
import {
  brokerContract,
  channelCountsStoreContract,
  presenceStoreContract,
  revocationStoreContract,
} from '@syncline/testing';
import type { Cluster } from 'ioredis';
import { describe } from 'vitest';
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
});
