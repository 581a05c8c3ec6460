import type { PublishOutcome } from '@syncline/server';
import { eventually } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisBroker, redisService, startPrivateRedis } from './cluster/redis-env.js';
import { defer, tempDir } from './helpers.js';

const HISTORY = { size: 100, ttlMs: 600_000 };

describe.runIf(redisService.available)('idempotency keys across a Redis restart with AOF', () => {
  it('a key retried after the restart publishes nothing new while its publication is retained', async () => {
    const prefix = 'syncline-aof-keys:';
    const channel = 'chat:aof-keys';
    const redis = await startPrivateRedis({ dir: tempDir(), aof: true });
    const broker = await redisBroker(prefix, redis.url);
    defer(() => broker.close());
    const publish = (key: string, n: number): Promise<PublishOutcome> =>
      broker.publish({ channel, data: { n }, key: `u:${key}`, history: HISTORY });
    const first = await publish('k1', 1);
    await publish('k2', 2);

    // Redis crashes after acknowledging k1; the publisher never got the answer and retries with the same key.
    await redis.kill();
    await redis.start();
    let again: PublishOutcome | undefined;
    await eventually(
      async () => {
        again = await publish('k1', 1).catch(() => undefined);
        return again !== undefined;
      },
      'Redis answering again',
      10_000,
    );

    // The channel has a new epoch (another Redis process), its history was kept, and k1 is not applied twice.
    expect(again?.epoch).not.toBe(first.epoch);
    expect(again).toEqual({ epoch: again?.epoch, offset: first.offset, duplicate: true });
    const read = await broker.history(channel, { since: 0, limit: 100, history: HISTORY });
    expect(read.publications.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }]);

    // A key record naming an older epoch whose offset holds another publication does not swallow a publish.
    const admin = new Redis(redis.url);
    defer(() => admin.disconnect());
    await admin.set(`${prefix}{${channel}}:k:u:k3`, `${first.epoch} 2`, 'PX', 60_000);
    const third = await publish('k3', 3);
    expect(third).toEqual({ epoch: again?.epoch, offset: 3, duplicate: false });
  }, 30_000);
});
