import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { ServerOptions } from '../server.js';

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
 * Reads the service URLs from flags, then `SYNCLINE_REDIS_URL`/`REDIS_URL` and
 * `SYNCLINE_POSTGRES_URL`/`DATABASE_URL`; the Redis key prefix from
 * `SYNCLINE_REDIS_PREFIX`.
 */
export function clusterUrls(
  flags: { redis?: string | undefined; postgres?: string | undefined },
  env: NodeJS.ProcessEnv,
): ClusterUrls {
  return {
    redis: flags.redis ?? env.SYNCLINE_REDIS_URL ?? env.REDIS_URL,
    postgres: flags.postgres ?? env.SYNCLINE_POSTGRES_URL ?? env.DATABASE_URL,
    redisPrefix: env.SYNCLINE_REDIS_PREFIX,
  };
}

// The adapters depend on the server package, so they are loaded by name at
// run time (optional peer dependencies) rather than imported.
interface RedisModule {
  RedisBroker: {
    connect(o: {
      url: string;
      prefix?: string;
      onError?: (err: unknown, channel?: string) => void;
    }): Promise<Broker & object>;
  };
  createRedisPresence?: (broker: unknown, logger: Logger) => NonNullable<ServerOptions['presence']>;
}

interface PostgresModule {
  PostgresDocStore: { connect(o: { url: string; logger?: Logger }): Promise<NonNullable<ServerOptions['docStore']>> };
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
 */
export async function clusterOptions(urls: ClusterUrls, logger: Logger): Promise<Partial<ServerOptions>> {
  const out: {
    broker?: Broker;
    presence?: NonNullable<ServerOptions['presence']>;
    docStore?: NonNullable<ServerOptions['docStore']>;
  } = {};
  if (urls.redis) {
    const mod = await load<RedisModule>('@syncline/redis', '--redis');
    const broker = await mod.RedisBroker.connect({
      url: urls.redis,
      ...(urls.redisPrefix ? { prefix: urls.redisPrefix } : {}),
      onError: (err, channel) => logger.warn({ err, channel }, 'redis broker background failure'),
    });
    out.broker = broker;
    const presence = mod.createRedisPresence?.(broker, logger);
    if (presence) out.presence = presence;
    logger.info('cluster broker: redis');
  }
  if (urls.postgres) {
    const mod = await load<PostgresModule>('@syncline/postgres', '--postgres');
    out.docStore = await mod.PostgresDocStore.connect({ url: urls.postgres, logger });
    logger.info('document store: postgres');
  }
  return out;
}
