export { type BusListener, PubSubBus, type PubSubBusOptions } from './pubsub-bus.js';
export { DEFAULT_META_TTL_MS, RedisBroker, type RedisBrokerOptions } from './redis-broker.js';
export { connectRedisCluster, type RedisClusterOptions, type RedisClusterParts } from './redis-cluster.js';
export { RedisDocFanout } from './redis-doc-fanout.js';
export { RedisPresenceFanout } from './redis-presence-fanout.js';
export { RedisPresenceStore, type RedisPresenceStoreOptions } from './redis-presence-store.js';
export { RedisSessionForwarder, type RedisSessionForwarderOptions } from './redis-session-forwarder.js';
