import type { RedisClient } from './redis-connections.js';

/**
 * The identity (run_id) of the Redis process one connection talks to. It is
 * read once and forgotten whenever the connection closes (a restart or a
 * failover always breaks it), so the next caller learns the identity of the
 * process it then talks to. Scripts compare it with the one stored beside
 * each channel's position: a channel last written by another process gets a
 * new epoch. It must be read on the connection the script then runs on.
 */
export class RedisIdentity {
  readonly #redis: RedisClient;
  #identity: Promise<string> | undefined;

  /** Watches `redis` for closes. */
  constructor(redis: RedisClient) {
    this.#redis = redis;
    redis.on('close', () => {
      this.#identity = undefined;
    });
  }

  /** The run_id, read with `INFO server` unless known; fails (and is read again next time) when Redis does not answer. */
  get(): Promise<string> {
    this.#identity ??= this.#redis.info('server').then(
      (info) => {
        const id = /^run_id:(\w+)/m.exec(info)?.[1];
        if (!id) throw new Error('Redis did not report its run_id');
        return id;
      },
      (err: unknown) => {
        this.#identity = undefined;
        throw err;
      },
    );
    return this.#identity;
  }
}
