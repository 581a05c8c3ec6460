export { DEFAULT_META_TTL_MS, RedisBroker, type RedisBrokerOptions } from './redis-broker.js';
