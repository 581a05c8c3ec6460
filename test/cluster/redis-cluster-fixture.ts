import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedisCluster, type TestRedisCluster, withNode } from './redis-cluster-env.js';

/**
 * A Redis Cluster for the tests of one file: started in `beforeAll` (when
 * `enabled`), stopped in `afterAll`. Read `current()` inside tests.
 */
export function sharedRedisCluster(
  enabled: boolean,
  options: { masters?: number; replicas?: number } = {},
): () => TestRedisCluster {
  let cluster: TestRedisCluster | undefined;
  beforeAll(async () => {
    if (enabled) cluster = await startRedisCluster(options);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error('the Redis Cluster is not running');
    return cluster;
  };
}

/** A key prefix no other test uses. */
export function clusterPrefix(): string {
  return `syncline-test:${randomBytes(5).toString('hex')}:`;
}

/** A connected ioredis Cluster client on `seeds` (disconnect it when done). */
export async function clusterClient(seeds: readonly string[]): Promise<Cluster> {
  const c = new Cluster(
    seeds.map((s) => {
      const [host, port] = s.split(':');
      return { host: host as string, port: Number(port) };
    }),
    { lazyConnect: true },
  );
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Deletes every key under `prefix` on every master of the cluster. */
export async function dropClusterPrefix(cluster: TestRedisCluster, prefix: string): Promise<void> {
  for (const master of (await cluster.masters()).keys()) {
    await withNode(master, async (r) => {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        // One DEL per key: they may sit in different slots.
        for (const k of keys) await r.del(k);
      } while (cursor !== '0');
    });
  }
}
