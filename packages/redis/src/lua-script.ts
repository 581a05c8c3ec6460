import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connections.js';

/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis does not
 * know it (first use, or after a Redis restart flushed the script cache).
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with its keys and arguments. */
  async run(redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.#source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}
