import { randomBytes } from 'node:crypto';
import { RedisBroker } from '@syncline/redis';
import { requireService } from '@syncline/testing';
import { Redis } from 'ioredis';
import { defer } from '../helpers.js';

/** Redis of the machine (or CI). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; throws when it is required (SYNCLINE_REQUIRE_SERVICES=1) and missing. */
export const redisService = await requireService('Redis', REDIS_URL, 6379);

/** A key prefix no other test run uses; its keys are deleted after the test. */
export function testPrefix(url = REDIS_URL): string {
  const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
  defer(() => dropPrefix(url, prefix));
  return prefix;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** A connected RedisBroker under `prefix`. */
export function redisBroker(prefix: string, url = REDIS_URL): Promise<RedisBroker> {
  return RedisBroker.connect({ url, prefix });
}
