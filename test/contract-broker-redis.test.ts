import { randomBytes } from 'node:crypto';
import { RedisBroker } from '@syncline/redis';
import { brokerContract } from '@syncline/testing';
import { describe } from 'vitest';
import { dropPrefix, REDIS_URL, redisService } from './cluster/redis-env.js';

describe.runIf(redisService.available)('Redis', () => {
  brokerContract({
    name: 'RedisBroker',
    multiNode: true,
    canLoseEverything: true,
    async create() {
      const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
      const brokers: RedisBroker[] = [];
      return {
        async node() {
          const b = await RedisBroker.connect({ url: REDIS_URL, prefix });
          brokers.push(b);
          return b;
        },
        loseEverything: () => dropPrefix(REDIS_URL, prefix),
        async close() {
          for (const b of brokers) await b.close();
          await dropPrefix(REDIS_URL, prefix);
        },
      };
    },
  });
});
