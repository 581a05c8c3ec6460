export { channelTag } from './channel-tag.js';
export { BROKER_RETRY_AFTER_MS, BROKER_UNAVAILABLE_MESSAGE, brokerUnavailable, toBrokerError } from './errors.js';
export { DEFAULT_FEED_MAX_LEN, type FeedKeys, type FeedRecording, feedKeys } from './feed-recording.js';
export { type BusListener, PubSubBus, type PubSubBusOptions } from './pubsub-bus.js';
export {
  BROKER_READ_TIMEOUT_MS,
  DEFAULT_META_TTL_MS,
  RedisBroker,
  type RedisBrokerOptions,
} from './redis-broker.js';
export {
  DEFAULT_COUNTS_REPORT_MS,
  RedisChannelCounts,
  type RedisChannelCountsOptions,
} from './redis-channel-counts.js';
export {
  connectRedis,
  connectRedisCluster,
  type RedisClusterOptions,
  type RedisClusterParts,
} from './redis-cluster.js';
export {
  MAX_CLUSTER_SEEDS,
  parseClusterSeeds,
  type RedisClient,
  type RedisStoreOptions,
  type RedisTarget,
} from './redis-connections.js';
export { RedisDocFanout } from './redis-doc-fanout.js';
export { RedisHealth, type RedisHealthOptions } from './redis-health.js';
export {
  DEFAULT_OCCUPANCY_HEARTBEAT_MS,
  DEFAULT_OCCUPANCY_NODE_TTL_MS,
  RedisOccupancyStore,
  type RedisOccupancyStoreOptions,
} from './redis-occupancy-store.js';
export { RedisPresenceFanout } from './redis-presence-fanout.js';
export { RedisPresenceStore, type RedisPresenceStoreOptions } from './redis-presence-store.js';
export {
  DEFAULT_FEED_LEASE_MS,
  RedisPublicationFeed,
  type RedisPublicationFeedOptions,
} from './redis-publication-feed.js';
export {
  DEFAULT_REVOCATION_REFRESH_MS,
  RedisRevocationStore,
  type RedisRevocationStoreOptions,
} from './redis-revocation-store.js';
export { RedisSessionForwarder, type RedisSessionForwarderOptions } from './redis-session-forwarder.js';
export {
  type InstanceHealthListener,
  MAX_REDIS_SHARDS,
  NODE_WIDE_NAME,
  pickShard,
  ShardedBroker,
  ShardedPresenceFanout,
  ShardedPresenceStore,
  ShardedPublicationFeed,
  shardName,
} from './redis-shards.js';
export { RedisWindowCounters } from './redis-window-counters.js';
export { DEFAULT_ACK_TIMEOUT_MS } from './replica-ack.js';
