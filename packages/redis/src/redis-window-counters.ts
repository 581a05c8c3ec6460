import type { WindowCount, WindowCounters } from '@syncline/server';
import { toBrokerError } from './errors.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient, RedisStoreOptions } from './redis-connections.js';

/**
 * Adds one to the counter and opens its window on the first hit (or when a
 * key somehow lost its expiry); answers the count and the time left.
 * KEYS: counter. ARGV: window ms.
 */
const HIT = new LuaScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`);

/** The counter and the time left, or false when no window is open. KEYS: counter. */
const PEEK = new LuaScript(`
local n = redis.call('GET', KEYS[1])
if not n then return false end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
`);

/**
 * Window counters shared by every node in Redis: one string key per counter
 * (`<prefix>counters:{<key>}`, its own hash slot on Redis Cluster), counted
 * with INCR and expiring with its window (PEXPIRE), both in one script, so
 * concurrent hits of all nodes are counted exactly once. Time left comes
 * from Redis (PTTL), not from the nodes' clocks. Failures reject with
 * `unavailable` or `timeout`, within the connection's command timeout.
 */
export class RedisWindowCounters implements WindowCounters {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(options: RedisStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = `${options.prefix ?? 'syncline:'}counters:`;
  }

  #key(key: string): string {
    return `${this.#prefix}{${key}}`;
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    try {
      const [count, remainingMs] = (await HIT.run(this.#redis, [this.#key(key)], [windowMs])) as [number, number];
      return { count, remainingMs };
    } catch (err) {
      throw toBrokerError(err, 'counter hit');
    }
  }

  async peek(key: string): Promise<WindowCount | undefined> {
    try {
      const r = (await PEEK.run(this.#redis, [this.#key(key)], [])) as [number, number] | null;
      // A key without an expiry was not written by HIT: no window of this store is open.
      if (r === null || r[1] < 0) return undefined;
      return { count: r[0], remainingMs: r[1] };
    } catch (err) {
      throw toBrokerError(err, 'counter read');
    }
  }
}
