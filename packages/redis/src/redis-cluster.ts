import type {
  Broker,
  ChannelCountsStore,
  DocFanout,
  DocStore,
  OccupancyStore,
  PresenceFanout,
  PresenceStore,
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
import { RedisWindowCounters } from './redis-window-counters.js';

/** Options of `connectRedisCluster`. */
export interface RedisClusterOptions {
  /** `redis://…` URL. */
  readonly url: string;
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

/** Server options of a cluster node on Redis: spread them into `createServer`. */
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
  /** Pass as `publicationFeed`: `publication` webhook events, relayed by one node at a time. */
  readonly publicationFeed: RedisPublicationFeed;
  /** Pass as `counters`: the console's sign-in failure limits count over every node. */
  readonly counters: WindowCounters;
}

/**
 * Connects everything a cluster node keeps in Redis: the broker (channels and
 * history), the presence store and its fan-out, the forwarder of HTTP-session
 * requests, the revocations, channel counts and channel occupancy shared by
 * every node, the publication feed of webhooks, the console's sign-in
 * failure counts, and
 * (given the shared document store) the fan-out of document ops. Closing the
 * broker (which the server does on `close()`) closes the rest.
 */
export async function connectRedisCluster(options: RedisClusterOptions): Promise<RedisClusterParts> {
  const onError = options.onError ?? (() => undefined);
  const prefix = options.prefix ?? 'syncline:';
  const broker = await RedisBroker.connect({
    url: options.url,
    prefix,
    onError: (err, channel) => onError(err, `channel ${channel ?? ''}`),
    ...(options.ackReplicas === undefined ? {} : { ackReplicas: options.ackReplicas }),
    ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
  });
  const bus = new PubSubBus({ url: options.url, onError: (err) => onError(err, 'pubsub') });
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
