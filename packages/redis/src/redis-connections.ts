import { Cluster, Redis } from 'ioredis';

/** Default time after which a Redis command fails with a retryable error. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_500;

/** A connection to one Redis (or a Sentinel-managed master), or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Most seed nodes accepted for a Redis Cluster. */
export const MAX_CLUSTER_SEEDS = 64;

/**
 * Where a node's Redis is: `url` for one Redis, or `cluster` (seed nodes
 * `host:port`, or `redis://` URLs carrying credentials) for a Redis Cluster.
 */
export interface RedisTarget {
  /** `redis://…` (or `rediss://`) URL of one Redis. */
  readonly url?: string | undefined;
  /** Seed nodes of a Redis Cluster: `host:port` or `redis://[user:password@]host:port` (credentials and TLS of the first apply to all). */
  readonly cluster?: readonly string[] | undefined;
}

/** Options shared by the stores that run on a connection they are given. */
export interface RedisStoreOptions {
  /** A connected ioredis client or cluster (e.g. `RedisBroker.redis`); the store does not close it. */
  readonly redis: RedisClient;
  /** Key prefix (default `syncline:`). */
  readonly prefix?: string | undefined;
}

/** The two connections of one node's Redis user: commands and pub/sub. */
export interface NodeConnections {
  /**
   * Fails commands fast while disconnected and never resends them blindly (a
   * resent publish could be applied twice).
   */
  readonly commands: RedisClient;
  /** Queues (re)subscriptions until Redis is back and resubscribes by itself after a reconnect. */
  readonly subscriber: RedisClient;
}

/** Reconnect delay: doubling from 100 ms, at most 2 s. */
function retryStrategy(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

/** Parsed seed nodes of a cluster, plus the credentials and TLS of the first. */
export function parseClusterSeeds(seeds: readonly string[]): {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
} {
  if (seeds.length === 0) throw new RangeError('A Redis Cluster needs at least one seed node (host:port).');
  if (seeds.length > MAX_CLUSTER_SEEDS) {
    throw new RangeError(`A Redis Cluster takes at most ${MAX_CLUSTER_SEEDS} seed nodes, not ${seeds.length}.`);
  }
  let username: string | undefined;
  let password: string | undefined;
  let tls = false;
  const nodes = seeds.map((seed, i) => {
    const u = new URL(/^rediss?:\/\//.test(seed) ? seed : `redis://${seed}`);
    const port = u.port === '' ? 6379 : Number(u.port);
    if (u.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`Bad Redis Cluster seed node "${seed}": expected host:port.`);
    }
    if (i === 0) {
      tls = u.protocol === 'rediss:';
      if (u.username !== '') username = decodeURIComponent(u.username);
      if (u.password !== '') password = decodeURIComponent(u.password);
    }
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  });
  return {
    nodes,
    tls,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

/** Checks a target names exactly one of `url` and `cluster`. */
export function checkTarget(target: RedisTarget): void {
  if ((target.url === undefined) === (target.cluster === undefined)) {
    throw new RangeError('Give either a Redis URL or the seed nodes of a Redis Cluster, not both or neither.');
  }
}

/**
 * A Redis Cluster client. Redirections (`MOVED`, `ASK`), `TRYAGAIN` and
 * `CLUSTERDOWN` are followed (the command did not run), but a command whose
 * connection closed under it is not resent: its outcome is unknown, and the
 * caller answers `timeout` (a publish is then resent with its idempotency key).
 */
function createCluster(seeds: readonly string[], commandTimeoutMs: number | undefined, subscriber: boolean): Cluster {
  const { nodes, username, password, tls } = parseClusterSeeds(seeds);
  const cluster = new Cluster(nodes, {
    lazyConnect: true,
    // Node connections open lazily: without the queue, commands sent while
    // one is still connecting would fail. Callers bound their waits.
    enableOfflineQueue: true,
    enableReadyCheck: true,
    scaleReads: 'master',
    shardedSubscribers: subscriber,
    retryDelayOnFailover: subscriber ? 100 : 0,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: 1_000,
    slotsRefreshInterval: 2_000,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls ? { tls: {} } : {}),
      ...(subscriber
        ? { maxRetriesPerRequest: null }
        : {
            commandTimeout: commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
            autoResendUnfulfilledCommands: false,
            maxRetriesPerRequest: 0,
          }),
    },
  });
  cluster.on('error', () => undefined);
  cluster.on('node error', () => undefined);
  return cluster;
}

/**
 * Creates (without connecting: call `connect()` on each) a command and a
 * subscriber connection to `target`. Connection errors are not emitted:
 * callers see them as failed commands and `ready` events. On a Redis Cluster
 * the subscriber uses sharded pub/sub: one connection per master, each
 * subscription on the master of its channel's slot.
 */
export function createNodeConnections(
  target: RedisTarget | string,
  commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
): NodeConnections {
  const t: RedisTarget = typeof target === 'string' ? { url: target } : target;
  checkTarget(t);
  if (t.cluster !== undefined) {
    return {
      commands: createCluster(t.cluster, commandTimeoutMs, false),
      subscriber: createCluster(t.cluster, commandTimeoutMs, true),
    };
  }
  const url = t.url as string;
  const commands = createCommandConnection(url, commandTimeoutMs);
  // No command timeout on the subscriber: a (re)subscription queued while
  // Redis is down or paused waits until it is back, as `PubSubBus.subscribe`
  // promises. A timed-out SUBSCRIBE would leave its listener dropped while
  // ioredis still subscribes, so the channel would go silent for good.
  // Callers that need a bound (broker subscribes, presence) race their own
  // deadline and withdraw the subscription.
  const subscriber = new Redis(url, {
    lazyConnect: true,
    retryStrategy,
    maxRetriesPerRequest: null,
  });
  subscriber.on('error', () => undefined);
  return { commands, subscriber };
}

/**
 * Creates (without connecting) a command connection to `target` like
 * `NodeConnections.commands`: commands fail fast while disconnected and are
 * never resent blindly. Connection errors are not emitted.
 */
export function createCommandConnection(
  target: RedisTarget | string,
  commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
): RedisClient {
  const t: RedisTarget = typeof target === 'string' ? { url: target } : target;
  checkTarget(t);
  if (t.cluster !== undefined) return createCluster(t.cluster, commandTimeoutMs, false);
  const commands = new Redis(t.url as string, {
    lazyConnect: true,
    commandTimeout: commandTimeoutMs,
    retryStrategy,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
  });
  commands.on('error', () => undefined);
  return commands;
}

/** Whether a client talks to a Redis Cluster. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster;
}

/** Prefixes may not hold `{` or `}`: they would take over the hash tags that place keys on a cluster's shards. */
export function checkClusterPrefix(prefix: string): void {
  if (/[{}]/.test(prefix)) {
    throw new RangeError(`A Redis key prefix may not contain "{" or "}" on a Redis Cluster (got "${prefix}").`);
  }
}
