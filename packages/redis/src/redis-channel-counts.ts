import type { ChannelCountsStore } from '@syncline/server';
import { toBrokerError } from './errors.js';
import { checkClusterPrefix, type RedisClient, type RedisStoreOptions } from './redis-connections.js';

/** Default interval at which each node reports its channel counts. */
export const DEFAULT_COUNTS_REPORT_MS = 1_000;

/** Nodes that have not reported for this long are dropped from the index. */
const INDEX_TTL_MS = 60_000;

/** Options of the Redis channel counts store. */
export interface RedisChannelCountsOptions extends RedisStoreOptions {
  /** How often each node reports (default 1 s); reports expire after three times that. */
  readonly reportIntervalMs?: number | undefined;
}

/**
 * Channel subscriber counts of every node in Redis: one hash per node
 * (`channel → subscribers`) replaced in one transaction and expiring with a
 * TTL, plus a sorted set indexing the nodes by last report. An expired hash
 * reads as empty, so a crashed node's counts vanish after the TTL. On a Redis
 * Cluster all of them live on the shard of the hash tag `{counts}`.
 */
export class RedisChannelCounts implements ChannelCountsStore {
  readonly #redis: RedisClient;
  readonly #p: string;
  readonly reportIntervalMs: number;

  constructor(options: RedisChannelCountsOptions) {
    this.#redis = options.redis;
    const prefix = options.prefix ?? 'syncline:';
    if (options.redis.isCluster) checkClusterPrefix(prefix);
    // On a Redis Cluster every key shares the tag `{counts}` (one shard), so a
    // report stays one transaction and the totals one pipeline.
    this.#p = options.redis.isCluster ? `${prefix}{counts}:` : `${prefix}counts:`;
    this.reportIntervalMs = options.reportIntervalMs ?? DEFAULT_COUNTS_REPORT_MS;
  }

  #key(node: string): string {
    return `${this.#p}node:${node}`;
  }

  async report(node: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<void> {
    const fields: string[] = [];
    for (const [channel, n] of counts) if (n > 0) fields.push(channel, String(n));
    const key = this.#key(node);
    const tx = this.#redis.multi().del(key);
    if (fields.length > 0) tx.hset(key, ...fields).pexpire(key, ttlMs);
    tx.zadd(`${this.#p}nodes`, String(Date.now()), node);
    try {
      await tx.exec();
    } catch (err) {
      throw toBrokerError(err, 'channel counts report');
    }
  }

  async totals(): Promise<Map<string, number>> {
    const index = `${this.#p}nodes`;
    try {
      await this.#redis.zremrangebyscore(index, '-inf', Date.now() - INDEX_TTL_MS);
      const nodes = await this.#redis.zrange(index, '0', '-1');
      const pipe = this.#redis.pipeline();
      for (const node of nodes) pipe.hgetall(this.#key(node));
      const results = (await pipe.exec()) ?? [];
      const out = new Map<string, number>();
      for (const [err, hash] of results) {
        if (err) throw err;
        for (const [channel, n] of Object.entries(hash as Record<string, string>)) {
          out.set(channel, (out.get(channel) ?? 0) + Number(n));
        }
      }
      return out;
    } catch (err) {
      throw toBrokerError(err, 'channel counts');
    }
  }

  async remove(node: string): Promise<void> {
    try {
      await this.#redis.multi().del(this.#key(node)).zrem(`${this.#p}nodes`, node).exec();
    } catch (err) {
      throw toBrokerError(err, 'channel counts removal');
    }
  }
}
