import type { Logger } from 'pino';
import type { RevocationStore } from '../auth/revocations.js';
import type { Broker } from '../broker/broker.js';
import type { ChannelCountsStore } from '../channels/channel-counts.js';
import type { DocFanout } from '../docs/doc-fanout.js';
import type { DocStore } from '../docs/doc-store.js';
import type { PresenceFanout, PresenceStore } from '../presence/presence-store.js';
import type { ServerOptions } from '../server.js';
import type { SessionForwarder } from '../transport/session-forwarder.js';

/** Backing services of a cluster node, as URLs. */
export interface ClusterUrls {
  /** Redis (`redis://…`): broker, channel history, presence. */
  readonly redis?: string | undefined;
  /** PostgreSQL (`postgres://…`): documents. */
  readonly postgres?: string | undefined;
  /** Prefix of Redis keys, to share one Redis between deployments (`SYNCLINE_REDIS_PREFIX`, default `syncline:`). */
  readonly redisPrefix?: string | undefined;
}

/**
 * Reads the service URLs from flags, then `SYNCLINE_REDIS_URL` and
 * `SYNCLINE_POSTGRES_URL`; the Redis key prefix from `SYNCLINE_REDIS_PREFIX`.
 * The generic `REDIS_URL` / `DATABASE_URL` are deliberately not read: they are
 * often set for other software (or by a hosting platform), and picking them up
 * would silently turn an embedded server into a cluster node sharing state.
 */
export function clusterUrls(
  flags: { redis?: string | undefined; postgres?: string | undefined },
  env: NodeJS.ProcessEnv,
): ClusterUrls {
  return {
    redis: flags.redis ?? env.SYNCLINE_REDIS_URL,
    postgres: flags.postgres ?? env.SYNCLINE_POSTGRES_URL,
    redisPrefix: env.SYNCLINE_REDIS_PREFIX,
  };
}

// The adapters depend on the server package, so they are loaded by name at
// run time (optional peer dependencies) rather than imported.
interface RedisModule {
  connectRedisCluster(o: {
    url: string;
    prefix?: string | undefined;
    docStore?: DocStore | undefined;
    onError?: (err: unknown, what: string) => void;
  }): Promise<{
    broker: Broker;
    presence: { store: PresenceStore; fanout: PresenceFanout };
    docFanout?: DocFanout;
    forwarder: SessionForwarder;
    revocations: RevocationStore;
    channelCounts: ChannelCountsStore;
  }>;
}

interface PostgresModule {
  PostgresDocStore: { connect(o: { url: string; onError?: (err: unknown) => void }): Promise<DocStore> };
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
 * PostgreSQL holds documents; Redis carries channels, history, presence,
 * revocations, channel counts, forwarded HTTP-session requests and (with
 * PostgreSQL) document ops between nodes.
 */
export async function clusterOptions(urls: ClusterUrls, logger: Logger): Promise<Partial<ServerOptions>> {
  const out: {
    broker?: Broker;
    presence?: { store: PresenceStore; fanout: PresenceFanout };
    docStore?: DocStore;
    docFanout?: DocFanout;
    httpTransports?: { forwarder: SessionForwarder };
    revocations?: RevocationStore;
    channelCounts?: ChannelCountsStore;
  } = {};
  if (urls.postgres) {
    const mod = await load<PostgresModule>('@syncline/postgres', '--postgres');
    out.docStore = await mod.PostgresDocStore.connect({
      url: urls.postgres,
      onError: (err) => logger.warn({ err }, 'postgres connection failure'),
    });
    logger.info('document store: postgres');
  }
  if (urls.redis) {
    const mod = await load<RedisModule>('@syncline/redis', '--redis');
    const parts = await mod.connectRedisCluster({
      url: urls.redis,
      prefix: urls.redisPrefix,
      docStore: out.docStore,
      onError: (err, what) => logger.warn({ err, what }, 'redis background failure'),
    });
    out.broker = parts.broker;
    out.presence = parts.presence;
    if (parts.docFanout) out.docFanout = parts.docFanout;
    out.httpTransports = { forwarder: parts.forwarder };
    out.revocations = parts.revocations;
    out.channelCounts = parts.channelCounts;
    logger.info('cluster broker: redis');
  }
  return out;
}
