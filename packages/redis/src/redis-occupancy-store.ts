import type { OccupancyChange, OccupancyStore } from '@syncline/server';
import { toBrokerError } from './errors.js';
import { LuaScript } from './lua-script.js';
import { checkClusterPrefix, type RedisClient, type RedisStoreOptions } from './redis-connections.js';

/** Options of the Redis occupancy store. */
export interface RedisOccupancyStoreOptions extends RedisStoreOptions {
  /** How often each node heartbeats (default 1 s). */
  readonly heartbeatMs?: number | undefined;
  /** A node silent this long loses its channels (default 10 s). */
  readonly nodeTtlMs?: number | undefined;
}

/** Default heartbeat interval of a node's occupancy. */
export const DEFAULT_OCCUPANCY_HEARTBEAT_MS = 1_000;
/** Default time after which a silent node's channels are vacated. */
export const DEFAULT_OCCUPANCY_NODE_TTL_MS = 10_000;

/**
 * Set or clear: KEYS = channel's node set, node's channel index; ARGV = node,
 * channel, '1' (has subscribers) or '0'. Returns 1 when it occupied the
 * channel, -1 when it vacated it, else 0.
 */
const SET_SCRIPT = new LuaScript(`
if ARGV[3] == '1' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
    redis.call('SADD', KEYS[2], ARGV[2])
    if redis.call('SCARD', KEYS[1]) == 1 then return 1 end
  end
  return 0
end
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[2], ARGV[2])
  if redis.call('SCARD', KEYS[1]) == 0 then return -1 end
end
return 0
`);

/**
 * Clear for a dead node: KEYS = channel's node set, node's channel index,
 * heartbeats; ARGV = node, channel, cutoff (ms). Does nothing (0) once the
 * node heartbeated at or after the cutoff; else as a clear.
 */
const EXPIRE_SCRIPT = new LuaScript(`
local at = redis.call('ZSCORE', KEYS[3], ARGV[1])
if at and tonumber(at) >= tonumber(ARGV[3]) then return 0 end
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[2], ARGV[2])
  if redis.call('SCARD', KEYS[1]) == 0 then return -1 end
end
return 0
`);

/** KEYS = heartbeats; ARGV = node, now, ttl. Records the heartbeat; 1 when the node was recorded alive. */
const HEARTBEAT_SCRIPT = new LuaScript(`
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if at and tonumber(at) >= tonumber(ARGV[2]) - tonumber(ARGV[3]) then return 1 end
return 0
`);

/** KEYS = heartbeats, node's index; ARGV = node, cutoff. Forgets a node still silent with no channel left. */
const FORGET_SCRIPT = new LuaScript(`
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) < tonumber(ARGV[2]) and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`);

/**
 * Which nodes have subscribers of each channel, in Redis (see
 * `OccupancyStore`): a set of nodes per channel (`{prefix}occ:c:{channel}`),
 * a set of channels per node (`{prefix}occ:node:<id>`) and node heartbeats
 * in a sorted set (`{prefix}occ:nodes`). Every change is one Lua script, so
 * the node whose write takes a channel from no node to one (or from one to
 * none) is the only one told so. The channels of a node that stopped
 * heartbeating are cleared by any live node's `expire`, each exactly once.
 * On a Redis Cluster every key carries the hash tag `{occ}`
 * (`{prefix}{occ}:c:<channel>`, …): occupancy lives on one shard, and its
 * writes (one per channel a node starts or stops serving) stay atomic.
 */
export class RedisOccupancyStore implements OccupancyStore {
  readonly #redis: RedisClient;
  readonly #p: string;
  readonly #cluster: boolean;
  readonly heartbeatMs: number;
  readonly nodeTtlMs: number;

  constructor(options: RedisOccupancyStoreOptions) {
    this.#redis = options.redis;
    const prefix = options.prefix ?? 'syncline:';
    if (options.redis.isCluster) checkClusterPrefix(prefix);
    this.#cluster = options.redis.isCluster;
    // On a Redis Cluster every key shares the tag `{occ}` (one shard), so each
    // script's keys are in one slot.
    this.#p = this.#cluster ? `${prefix}{occ}:` : `${prefix}occ:`;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_OCCUPANCY_HEARTBEAT_MS;
    this.nodeTtlMs = options.nodeTtlMs ?? DEFAULT_OCCUPANCY_NODE_TTL_MS;
  }

  #channel(channel: string): string {
    return this.#cluster ? `${this.#p}c:${channel}` : `${this.#p}c:{${channel}}`;
  }

  #index(node: string): string {
    return `${this.#p}node:${node}`;
  }

  #nodes(): string {
    return `${this.#p}nodes`;
  }

  async #run(script: LuaScript, keys: string[], args: Array<string | number>): Promise<number> {
    try {
      return Number(await script.run(this.#redis, keys, args));
    } catch (err) {
      throw toBrokerError(err, 'channel occupancy');
    }
  }

  async set(channel: string, node: string, present: boolean): Promise<OccupancyChange | undefined> {
    const r = await this.#run(
      SET_SCRIPT,
      [this.#channel(channel), this.#index(node)],
      [node, channel, present ? 1 : 0],
    );
    return r === 1 ? 'occupied' : r === -1 ? 'vacated' : undefined;
  }

  async heartbeat(node: string, now: number): Promise<boolean> {
    return (await this.#run(HEARTBEAT_SCRIPT, [this.#nodes()], [node, now, this.nodeTtlMs])) === 1;
  }

  /** Clears `node`'s channels (all, or only while it stays silent since `cutoff`); returns those vacated. */
  async #clear(node: string, cutoff: number): Promise<string[]> {
    let channels: string[];
    try {
      channels = await this.#redis.smembers(this.#index(node));
    } catch (err) {
      throw toBrokerError(err, 'channel occupancy');
    }
    const vacated: string[] = [];
    for (const channel of channels) {
      const keys = [this.#channel(channel), this.#index(node), this.#nodes()];
      if ((await this.#run(EXPIRE_SCRIPT, keys, [node, channel, cutoff])) === -1) vacated.push(channel);
    }
    return vacated;
  }

  async expire(now: number, nodeTtlMs: number): Promise<string[]> {
    const cutoff = now - nodeTtlMs;
    let dead: string[];
    try {
      dead = await this.#redis.zrangebyscore(this.#nodes(), '-inf', `(${cutoff}`);
    } catch (err) {
      throw toBrokerError(err, 'channel occupancy');
    }
    const vacated: string[] = [];
    for (const node of dead) {
      vacated.push(...(await this.#clear(node, cutoff)));
      await this.#run(FORGET_SCRIPT, [this.#nodes(), this.#index(node)], [node, cutoff]);
    }
    return vacated;
  }

  reset(node: string): Promise<string[]> {
    return this.#clear(node, Number.MAX_SAFE_INTEGER);
  }
}
