import { randomBytes } from 'node:crypto';
import { connectRedis, type RedisClusterParts } from '@syncline/redis';
import { brokerContract, presenceStoreContract } from '@syncline/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { redisClusterService, startRedisInstances, type TestRedisInstances } from './cluster/redis-cluster-env.js';
import { dropPrefix } from './cluster/redis-env.js';

// The contract suites, unchanged, on three independent Redis instances:
// each channel on the instance rendezvous hashing of its name picks.
describe.runIf(redisClusterService.available)('several Redis instances', () => {
  let instances: TestRedisInstances | undefined;
  beforeAll(async () => {
    instances = await startRedisInstances(3);
  }, 30_000);
  afterAll(async () => {
    await instances?.stop();
  });
  const urls = (): readonly string[] => instances?.urls ?? [];
  const dropAll = async (prefix: string): Promise<void> => {
    for (const url of urls()) await dropPrefix(url, prefix);
  };

  /** A fresh key space; each opened node connects every part on all three instances. */
  function backend<T>(pick: (parts: RedisClusterParts) => T) {
    return async () => {
      const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
      const opened: RedisClusterParts[] = [];
      const open = async (): Promise<T> => {
        const parts = await connectRedis({ urls: urls(), prefix });
        opened.push(parts);
        return pick(parts);
      };
      return {
        node: open,
        open,
        loseEverything: () => dropAll(prefix),
        async close() {
          for (const p of opened) await p.broker.close();
          await dropAll(prefix);
        },
      };
    };
  }

  brokerContract({
    name: 'ShardedBroker on three Redis instances',
    multiNode: true,
    canLoseEverything: true,
    create: backend((parts) => parts.broker),
  });
  presenceStoreContract({
    name: 'ShardedPresenceStore on three Redis instances',
    multiNode: true,
    create: backend((parts) => parts.presence.store),
  });
});
