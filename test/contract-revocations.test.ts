import { randomBytes } from 'node:crypto';
import { RedisChannelCounts, RedisRevocationStore } from '@syncline/redis';
import { openDatabase, SqliteRevocationStore } from '@syncline/server';
import { channelCountsStoreContract, revocationStoreContract } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { dropPrefix, REDIS_URL, redisService } from './cluster/redis-env.js';

revocationStoreContract({
  name: 'SqliteRevocationStore',
  multiNode: false,
  async create() {
    const db = openDatabase(':memory:');
    return {
      open: async () => new SqliteRevocationStore(db),
      close: async () => {
        db.close();
      },
    };
  },
});

/** A fresh Redis key space with one connection per opened store. */
function redisBackend<T>(make: (redis: Redis, prefix: string) => T) {
  return async () => {
    const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
    const conns: Redis[] = [];
    return {
      async open() {
        const redis = new Redis(REDIS_URL);
        conns.push(redis);
        return make(redis, prefix);
      },
      async close() {
        for (const c of conns) c.disconnect();
        await dropPrefix(REDIS_URL, prefix);
      },
    };
  };
}

describe.runIf(redisService.available)('Redis', () => {
  revocationStoreContract({
    name: 'RedisRevocationStore',
    multiNode: true,
    create: redisBackend((redis, prefix) => new RedisRevocationStore({ redis, prefix })),
  });
  channelCountsStoreContract({
    name: 'RedisChannelCounts',
    create: redisBackend((redis, prefix) => new RedisChannelCounts({ redis, prefix })),
  });
});
