import { randomBytes } from 'node:crypto';
import { RedisPresenceStore } from '@syncline/redis';
import { presenceStoreContract } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { dropPrefix, REDIS_URL, redisService } from './cluster/redis-env.js';

describe.runIf(redisService.available)('Redis', () => {
  presenceStoreContract({
    name: 'RedisPresenceStore',
    multiNode: true,
    async create() {
      const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
      const conns: Redis[] = [];
      return {
        async open() {
          const redis = new Redis(REDIS_URL);
          conns.push(redis);
          return new RedisPresenceStore({ redis, prefix });
        },
        async close() {
          for (const c of conns) c.disconnect();
          await dropPrefix(REDIS_URL, prefix);
        },
      };
    },
  });
});
