import type { Logger } from 'pino';
import type { RevocationStore } from '../auth/revocations.js';
import type { Broker } from '../broker/broker.js';
import type { ChannelCountsStore } from '../channels/channel-counts.js';
import type { OccupancyStore } from '../channels/cluster-occupancy.js';
import type { WindowCounters } from '../cluster/window-counters.js';
import type { DocFanout } from '../docs/doc-fanout.js';
import type { DocStore } from '../docs/doc-store.js';
import type { PresenceFanout, PresenceStore } from '../presence/presence-store.js';
import type { ServerOptions } from '../server.js';
import type { SessionForwarder } from '../transport/session-forwarder.js';
import type { PublicationFeed } from '../webhooks/publication-feed.js';
import type { WebhookOutboxFactory } from '../webhooks/webhook-outbox.js';

/** Backing services of a cluster node, as URLs. */
export interface ClusterUrls {
  /** Redis (`redis://…`): broker, channel history, presence. */
  readonly redis?: string | undefined;
  /**
   * Several independent Redis instances (`--redis URL --redis URL …`, or
   * several URLs in `SYNCLINE_REDIS_URL`; at most 64): channels are spread
   * over them by hashing their names. `redis` is then the first.
   */
  readonly redisUrls?: readonly string[] | undefined;
  /**
   * Seed nodes of a Redis Cluster instead of `redis` (`--redis-cluster
   * host:port,host:port` / `SYNCLINE_REDIS_CLUSTER`; at most 64).
   */
  readonly redisCluster?: readonly string[] | undefined;
  /** PostgreSQL (`postgres://…`): documents. */
  readonly postgres?: string | undefined;
  /** Prefix of Redis keys, to share one Redis between deployments (`SYNCLINE_REDIS_PREFIX`, default `syncline:`). */
  readonly redisPrefix?: string | undefined;
  /**
   * Redis replicas that must confirm a publication before it is acknowledged
   * (`--redis-ack-replicas` / `SYNCLINE_REDIS_ACK_REPLICAS`; default 0).
   */
  readonly redisAckReplicas?: number | undefined;
  /** Longest wait for them, ms (`--redis-ack-timeout-ms` / `SYNCLINE_REDIS_ACK_TIMEOUT_MS`; default 1,000). */
  readonly redisAckTimeoutMs?: number | undefined;
}

/** Flags of `syncline start` that `clusterUrls` reads. */
export interface ClusterFlags {
  readonly redis?: string | readonly string[] | undefined;
  readonly 'redis-cluster'?: string | undefined;
  readonly postgres?: string | undefined;
  readonly 'redis-ack-replicas'?: string | undefined;
  readonly 'redis-ack-timeout-ms'?: string | undefined;
}

/** A whole number ≥ `min` from a flag or variable; throws naming it otherwise. */
function wholeNumber(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`bad ${name} "${value}" (a whole number ≥ ${min})`);
  return n;
}

/**
 * Reads the service URLs from flags, then `SYNCLINE_REDIS_URL` and
 * `SYNCLINE_POSTGRES_URL`; the Redis key prefix from `SYNCLINE_REDIS_PREFIX`;
 * the replica acknowledgements from flags, then `SYNCLINE_REDIS_ACK_REPLICAS`
 * and `SYNCLINE_REDIS_ACK_TIMEOUT_MS` (throws on a value that is not a whole
 * number).
 * The generic `REDIS_URL` / `DATABASE_URL` are deliberately not read: they are
 * often set for other software (or by a hosting platform), and picking them up
 * would silently turn an embedded server into a cluster node sharing state.
 */
export function clusterUrls(flags: ClusterFlags, env: NodeJS.ProcessEnv): ClusterUrls {
  const redisUrls = redisList(flags.redis ?? env.SYNCLINE_REDIS_URL);
  const redis = redisUrls?.[0];
  const redisCluster = clusterSeeds(flags['redis-cluster'] ?? env.SYNCLINE_REDIS_CLUSTER);
  if (redis && redisCluster) {
    throw new Error('give either --redis (SYNCLINE_REDIS_URL) or --redis-cluster (SYNCLINE_REDIS_CLUSTER), not both');
  }
  if (redisCluster && /[{}]/.test(env.SYNCLINE_REDIS_PREFIX ?? '')) {
    throw new Error(
      'bad SYNCLINE_REDIS_PREFIX: on a Redis Cluster it may not contain "{" or "}" (they decide hash slots)',
    );
  }
  return {
    redis,
    ...(redisUrls && redisUrls.length > 1 ? { redisUrls } : {}),
    ...(redisCluster ? { redisCluster } : {}),
    postgres: flags.postgres ?? env.SYNCLINE_POSTGRES_URL,
    redisPrefix: env.SYNCLINE_REDIS_PREFIX,
    redisAckReplicas: wholeNumber(
      flags['redis-ack-replicas'] ?? env.SYNCLINE_REDIS_ACK_REPLICAS,
      'redis ack replicas (--redis-ack-replicas, SYNCLINE_REDIS_ACK_REPLICAS)',
      0,
    ),
    redisAckTimeoutMs: wholeNumber(
      flags['redis-ack-timeout-ms'] ?? env.SYNCLINE_REDIS_ACK_TIMEOUT_MS,
      'redis ack timeout (--redis-ack-timeout-ms, SYNCLINE_REDIS_ACK_TIMEOUT_MS)',
      1,
    ),
  };
}

/** Most Redis instances of `--redis URL --redis URL …`. */
export const MAX_REDIS_URLS = 64;

/**
 * Redis URLs from repeated `--redis` flags, or from one value that may list
 * several (`redis://a:6379 redis://b:6379`, split before each `redis://` or
 * `rediss://`); throws on more than 64 or the same URL twice.
 */
function redisList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const urls = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(/[\s,]+(?=rediss?:\/\/)/))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) return undefined;
  if (urls.length > MAX_REDIS_URLS) {
    throw new Error(`bad --redis: at most ${MAX_REDIS_URLS} Redis instances, got ${urls.length}`);
  }
  if (new Set(urls).size !== urls.length) throw new Error('bad --redis: the same Redis URL is listed twice');
  return urls;
}

/** Most seed nodes of `--redis-cluster`. */
export const MAX_REDIS_CLUSTER_SEEDS = 64;

/** Seed nodes from a comma-separated list (`host:port` or `redis://…`); throws on a malformed or too long list. */
function clusterSeeds(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seeds = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (seeds.length > MAX_REDIS_CLUSTER_SEEDS) {
    throw new Error(`bad --redis-cluster: at most ${MAX_REDIS_CLUSTER_SEEDS} seed nodes, got ${seeds.length}`);
  }
  for (const seed of seeds) {
    if (!/^(rediss?:\/\/[^\s/]+|[^\s/:]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$/.test(seed)) {
      throw new Error(`bad --redis-cluster seed node "${seed}" (host:port or redis://host:port)`);
    }
  }
  return seeds;
}

// The adapters depend on the server package, so they are loaded by name at
// run time (optional peer dependencies) rather than imported.
interface RedisModule {
  connectRedisCluster(o: {
    url?: string | undefined;
    urls?: readonly string[] | undefined;
    cluster?: readonly string[] | undefined;
    prefix?: string | undefined;
    docStore?: DocStore | undefined;
    onError?: (err: unknown, what: string) => void;
    ackReplicas?: number | undefined;
    ackTimeoutMs?: number | undefined;
  }): Promise<{
    broker: Broker;
    presence: { store: PresenceStore; fanout: PresenceFanout };
    docFanout?: DocFanout;
    forwarder: SessionForwarder;
    revocations: RevocationStore;
    channelCounts: ChannelCountsStore;
    occupancy: OccupancyStore;
    publicationFeed: PublicationFeed;
    counters: WindowCounters;
  }>;
}

interface PostgresModule {
  PostgresDocStore: {
    connect(o: {
      url: string;
      onError?: (err: unknown) => void;
    }): Promise<DocStore & { webhookOutbox: WebhookOutboxFactory }>;
  };
}

async function load<T>(name: string, flag: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    throw new Error(`${flag} needs the package ${name} (npm install ${name}): ${(err as Error).message}`);
  }
}

/**
 * Server options for the cluster services that were configured; empty (the
 * embedded default: in-process broker, SQLite) when neither URL is given.
 * PostgreSQL holds documents and the shared webhook outbox; Redis carries channels, history, presence,
 * revocations, channel counts and occupancy, the publication feed of
 * webhooks, the console's sign-in failure counts, forwarded HTTP-session requests and (with
 * PostgreSQL) document ops between nodes.
 */
export async function clusterOptions(urls: ClusterUrls, logger: Logger): Promise<Partial<ServerOptions>> {
  const out: {
    broker?: Broker;
    presence?: { store: PresenceStore; fanout: PresenceFanout };
    docStore?: DocStore;
    webhookOutbox?: WebhookOutboxFactory;
    docFanout?: DocFanout;
    httpTransports?: { forwarder: SessionForwarder };
    revocations?: RevocationStore;
    channelCounts?: ChannelCountsStore;
    occupancy?: OccupancyStore;
    publicationFeed?: PublicationFeed;
    counters?: WindowCounters;
  } = {};
  if (urls.postgres) {
    const mod = await load<PostgresModule>('@syncline/postgres', '--postgres');
    const store = await mod.PostgresDocStore.connect({
      url: urls.postgres,
      onError: (err) => logger.warn({ err }, 'postgres connection failure'),
    });
    out.docStore = store;
    // One outbox for the cluster, on the documents' database: commits write their events in their transaction.
    out.webhookOutbox = (settings) => store.webhookOutbox(settings);
    logger.info('document store and webhook outbox: postgres');
  }
  if (urls.redis || urls.redisCluster) {
    const mod = await load<RedisModule>('@syncline/redis', urls.redis ? '--redis' : '--redis-cluster');
    const parts = await mod.connectRedisCluster({
      ...(urls.redisCluster
        ? { cluster: urls.redisCluster }
        : urls.redisUrls
          ? { urls: urls.redisUrls }
          : { url: urls.redis }),
      prefix: urls.redisPrefix,
      docStore: out.docStore,
      onError: (err, what) => logger.warn({ err, what }, 'redis background failure'),
      ackReplicas: urls.redisAckReplicas,
      ackTimeoutMs: urls.redisAckTimeoutMs,
    });
    out.broker = parts.broker;
    out.presence = parts.presence;
    if (parts.docFanout) out.docFanout = parts.docFanout;
    out.httpTransports = { forwarder: parts.forwarder };
    out.revocations = parts.revocations;
    out.channelCounts = parts.channelCounts;
    out.occupancy = parts.occupancy;
    out.publicationFeed = parts.publicationFeed;
    out.counters = parts.counters;
    logger.info(
      {
        ackReplicas: urls.redisAckReplicas ?? 0,
        ...(urls.redisCluster ? { seeds: urls.redisCluster.length } : {}),
        ...(urls.redisUrls ? { instances: urls.redisUrls.length } : {}),
      },
      urls.redisCluster ? 'cluster broker: redis cluster' : 'cluster broker: redis',
    );
  }
  return out;
}
