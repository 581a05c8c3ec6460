import type { RevocationStore } from '@syncline/server';
import { toBrokerError } from './errors.js';
import { LuaScript } from './lua-script.js';
import { checkClusterPrefix, type RedisClient, type RedisStoreOptions } from './redis-connections.js';

/** Default interval at which nodes re-read the revocations (the node bus carries changes at once). */
export const DEFAULT_REVOCATION_REFRESH_MS = 5_000;

/** Stores the later of the stored and the given time; marks the hash as intact. KEYS: hash, marker. ARGV: user, before. */
const REVOKE = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], '1')
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return cur end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
`);

/** Every revocation, or false when the marker is gone (Redis lost its data). KEYS: hash, marker. */
const READ_ALL = new LuaScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
return redis.call('HGETALL', KEYS[1])
`);

/** Options of the Redis revocation store. */
export interface RedisRevocationStoreOptions extends RedisStoreOptions {
  /** How often nodes re-read the revocations (default 5 s). */
  readonly refreshMs?: number | undefined;
}

/**
 * Revocations shared by every node in one Redis hash (`user → before`), with
 * a marker key written alongside. Each change is one atomic script. When
 * Redis comes back without its data (no persistence), the marker is gone:
 * the next re-read of each live node writes back the revocations that node
 * holds in force (never moving one back), so a Redis restart does not lift
 * them. A lift made while a node was cut off from the others may be undone
 * by that node's write-back and must then be repeated.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #redis: RedisClient;
  readonly #hash: string;
  readonly #marker: string;
  readonly refreshMs: number;

  constructor(options: RedisRevocationStoreOptions) {
    const prefix = options.prefix ?? 'syncline:';
    this.#redis = options.redis;
    if (options.redis.isCluster) checkClusterPrefix(prefix);
    // On a Redis Cluster the hash and its marker share the tag `{revocations}` (one shard).
    const base = options.redis.isCluster ? `${prefix}{revocations}` : `${prefix}revocations`;
    this.#hash = base;
    this.#marker = `${base}:intact`;
    this.refreshMs = options.refreshMs ?? DEFAULT_REVOCATION_REFRESH_MS;
  }

  async all(known: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>> {
    try {
      let flat = (await READ_ALL.run(this.#redis, [this.#hash, this.#marker], [])) as string[] | null;
      if (flat === null) {
        for (const [user, before] of known) await this.#revoke(user, before);
        await this.#redis.set(this.#marker, '1');
        flat = Object.entries(await this.#redis.hgetall(this.#hash)).flat();
      }
      const out = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
      return out;
    } catch (err) {
      throw toBrokerError(err, 'revocations read');
    }
  }

  async #revoke(user: string, before: number): Promise<number> {
    return Number(await REVOKE.run(this.#redis, [this.#hash, this.#marker], [user, before]));
  }

  async revoke(user: string, before: number): Promise<number> {
    try {
      return await this.#revoke(user, before);
    } catch (err) {
      throw toBrokerError(err, 'revoke');
    }
  }

  async lift(user: string): Promise<boolean> {
    try {
      return (await this.#redis.hdel(this.#hash, user)) > 0;
    } catch (err) {
      throw toBrokerError(err, 'lift revocation');
    }
  }

  async close(): Promise<void> {}
}
