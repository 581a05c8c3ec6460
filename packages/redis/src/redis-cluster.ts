import type {
  Broker,
  ChannelCountsStore,
  DocFanout,
  DocStore,
  OccupancyStore,
  PresenceFanout,
  PresenceStore,
  PublicationFeed,
  RevocationStore,
  SessionForwarder,
  WindowCounters,
} from '@syncline/server';
import { PubSubBus } from './pubsub-bus.js';
import { RedisBroker } from './redis-broker.js';
import { RedisChannelCounts } from './redis-channel-counts.js';
import { RedisDocFanout } from './redis-doc-fanout.js';
import { RedisOccupancyStore, type RedisOccupancyStoreOptions } from './redis-occupancy-store.js';
import { RedisPresenceFanout } from './redis-presence-fanout.js';
import { RedisPresenceStore } from './redis-presence-store.js';
import { RedisPublicationFeed, type RedisPublicationFeedOptions } from './redis-publication-feed.js';
import { RedisRevocationStore } from './redis-revocation-store.js';
import { RedisSessionForwarder } from './redis-session-forwarder.js';
import {
  MAX_REDIS_SHARDS,
  NODE_WIDE_NAME,
  pickShard,
  ShardedBroker,
  ShardedPresenceFanout,
  ShardedPresenceStore,
  ShardedPublicationFeed,
  shardName,
} from './redis-shards.js';
import { RedisWindowCounters } from './redis-window-counters.js';

/** Options of `connectRedis` (and of its older name `connectRedisCluster`). */
export interface RedisClusterOptions {
  /** `redis://…` URL of one Redis (or give `cluster`). */
  readonly url?: string | undefined;
  /**
   * Seed nodes of a Redis Cluster (`host:port`, or `redis://[user:password@]host:port`)
   * instead of `url`: channels, presence and fan-out are spread over its
   * shards by hash tags; node-wide state sits on one shard per kind.
   */
  readonly cluster?: readonly string[] | undefined;
  /**
   * URLs of several independent Redis instances instead of `url` (at most
   * `MAX_REDIS_SHARDS`): each channel lives on the instance that rendezvous
   * hashing of its name picks (the same on every node, whatever the order of
   * the list); node-wide state (revocations, counts, occupancy, forwarding,
   * document ops) lives on the instance the same hashing picks for
   * `NODE_WIDE_NAME`. Every node must list the same instances.
   */
  readonly urls?: readonly string[] | undefined;
  /** Key prefix (default `syncline:`). */
  readonly prefix?: string | undefined;
  /** The shared document store (PostgreSQL); with it, document ops are fanned out through Redis too. */
  readonly docStore?: DocStore | undefined;
  /** Receives background failures. */
  readonly onError?: (err: unknown, what: string) => void;
  /** Replicas that must confirm a publication before it is acknowledged (`RedisBrokerOptions.ackReplicas`, default 0). */
  readonly ackReplicas?: number | undefined;
  /** Longest wait for them, ms (`RedisBrokerOptions.ackTimeoutMs`). */
  readonly ackTimeoutMs?: number | undefined;
  /** Bounds and timings of the publication feed (`RedisPublicationFeed`). */
  readonly publicationFeed?: Omit<RedisPublicationFeedOptions, 'onError'> | undefined;
  /** Timings of the shared channel occupancy (`RedisOccupancyStore`). */
  readonly occupancy?: Pick<RedisOccupancyStoreOptions, 'heartbeatMs' | 'nodeTtlMs'> | undefined;
}

/** Server options of a cluster node on Redis (one Redis or a Redis Cluster): spread them into `createServer`. */
export interface RedisClusterParts {
  readonly broker: Broker;
  readonly presence: { readonly store: PresenceStore; readonly fanout: PresenceFanout };
  readonly docFanout?: DocFanout;
  /** Pass as `httpTransports.forwarder`: SSE/long-polling requests that reach the wrong node go to the owner. */
  readonly forwarder: SessionForwarder;
  /** Pass as `revocations`: revocations shared by every node. */
  readonly revocations: RevocationStore;
  /** Pass as `channelCounts`: subscriber counts of every node for the HTTP API. */
  readonly channelCounts: ChannelCountsStore;
  /** Pass as `occupancy`: cluster-wide `channel.occupied`/`channel.vacated` webhook events. */
  readonly occupancy: OccupancyStore;
  /** Pass as `counters`: the console's sign-in failure limits count over every node. */
  readonly counters: WindowCounters;
  /** Pass as `publicationFeed`: `publication` webhook events, relayed by one node at a time (per instance). */
  readonly publicationFeed: PublicationFeed & { readonly relaying: boolean };
}

/**
 * Connects everything a cluster node keeps in Redis: the broker (channels and
 * history), the presence store and its fan-out, the forwarder of HTTP-session
 * requests, the revocations, channel counts and channel occupancy shared by
 * every node, the publication feed of webhooks, the console's sign-in
 * failure counts, and
 * (given the shared document store) the fan-out of document ops. Closing the
 * broker (which the server does on `close()`) closes the rest. Works on one
 * Redis (`url`) or on a Redis Cluster (`cluster`, seed nodes).
 */
export async function connectRedis(options: RedisClusterOptions): Promise<RedisClusterParts> {
  const { urls } = options;
  if (urls !== undefined) {
    if (options.url !== undefined || options.cluster !== undefined) {
      throw new RangeError('Give one of url, urls and cluster.');
    }
    if (urls.length > 1) return connectShards(urls, options);
    return connectRedis({ ...options, urls: undefined, url: urls[0] });
  }
  const onError = options.onError ?? (() => undefined);
  const prefix = options.prefix ?? 'syncline:';
  const target = options.cluster === undefined ? { url: options.url } : { cluster: options.cluster };
  const broker = await RedisBroker.connect({
    ...target,
    prefix,
    onError: (err, channel) => onError(err, `channel ${channel ?? ''}`),
    ...(options.ackReplicas === undefined ? {} : { ackReplicas: options.ackReplicas }),
    ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
  });
  const bus = new PubSubBus({ ...target, onError: (err) => onError(err, 'pubsub') });
  broker.alsoClose(() => bus.close());
  try {
    await bus.connect();
  } catch (err) {
    await broker.close();
    throw err;
  }
  const presence = {
    store: new RedisPresenceStore({ redis: broker.redis, prefix }),
    fanout: new RedisPresenceFanout(bus, { prefix, onError: (err) => onError(err, 'presence') }),
  };
  const forwarder = new RedisSessionForwarder(bus, { prefix, onError: (err) => onError(err, 'forwarder') });
  const revocations = new RedisRevocationStore({ redis: broker.redis, prefix });
  const channelCounts = new RedisChannelCounts({ redis: broker.redis, prefix });
  const occupancy = new RedisOccupancyStore({ redis: broker.redis, prefix, ...options.occupancy });
  const publicationFeed = new RedisPublicationFeed(broker, {
    ...options.publicationFeed,
    onError: (err) => onError(err, 'publication feed'),
  });
  broker.alsoClose(() => publicationFeed.close());
  const counters = new RedisWindowCounters({ redis: broker.redis, prefix });
  const shared = { broker, presence, forwarder, revocations, channelCounts, occupancy, publicationFeed, counters };
  if (!options.docStore) return shared;
  const docFanout = new RedisDocFanout(bus, options.docStore, {
    prefix,
    onError: (err, doc) => onError(err, `document ${doc}`),
  });
  return { ...shared, docFanout };
}

/**
 * The parts of a cluster node on Redis: `connectRedis` under its first name
 * (a "cluster" of Syncline nodes, on one Redis unless `cluster` seeds are given).
 */
export const connectRedisCluster: (options: RedisClusterOptions) => Promise<RedisClusterParts> = connectRedis;

/** `connectRedis` over several independent instances (`urls`). */
async function connectShards(urls: readonly string[], options: RedisClusterOptions): Promise<RedisClusterParts> {
  if (urls.length > MAX_REDIS_SHARDS) {
    throw new RangeError(`At most ${MAX_REDIS_SHARDS} Redis instances, not ${urls.length}.`);
  }
  const names = urls.map(shardName);
  if (new Set(names).size !== names.length) throw new RangeError('The same Redis instance is listed twice.');
  const onError = options.onError ?? (() => undefined);
  // Node-wide state lives on one instance, chosen like a channel's (the same on
  // every node whatever the order of its list).
  const home = pickShard(NODE_WIDE_NAME, names);
  const parts: RedisClusterParts[] = [];
  try {
    for (const [i, url] of urls.entries()) {
      // Each instance gets every part; node-wide ones are used on `home` only.
      parts.push(
        await connectRedis({
          ...options,
          urls: undefined,
          url,
          docStore: i === home ? options.docStore : undefined,
          onError: (err, what) => onError(err, `${names[i]}: ${what}`),
        }),
      );
    }
  } catch (err) {
    for (const p of parts) await p.broker.close();
    throw err;
  }
  const first = parts[home] as RedisClusterParts;
  // An instance that is down fails only its own channels: said in the log, not by the node's readiness.
  const broker = new ShardedBroker(
    parts.map((p) => p.broker as RedisBroker),
    names,
    (name, h) => {
      if (!h.up) onError(new Error(`Redis instance down: ${h.reason ?? 'no answer'}`), `${name}: instance`);
    },
  );
  const shared = {
    broker,
    presence: {
      store: new ShardedPresenceStore(
        parts.map((p) => p.presence.store),
        names,
        (err, name) => onError(err, `${name}: presence`),
      ),
      fanout: new ShardedPresenceFanout(
        parts.map((p) => p.presence.fanout),
        names,
      ),
    },
    forwarder: first.forwarder,
    revocations: first.revocations,
    channelCounts: first.channelCounts,
    occupancy: first.occupancy,
    counters: first.counters,
    publicationFeed: new ShardedPublicationFeed(parts.map((p) => p.publicationFeed)),
  };
  return first.docFanout ? { ...shared, docFanout: first.docFanout } : shared;
}
