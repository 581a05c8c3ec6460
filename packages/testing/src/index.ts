export { type BrokerBackend, type BrokerFactory, brokerContract } from './broker-contract.js';
export { type DocStoreFactory, docStoreContract } from './doc-store-contract.js';
export * from './history.js';
export { type PresenceStoreFactory, presenceStoreContract } from './presence-store-contract.js';
export {
  type ChannelCountsStoreFactory,
  channelCountsStoreContract,
  type RevocationStoreFactory,
  revocationStoreContract,
} from './revocation-store-contract.js';
export { prng } from './seeded-random.js';
export { requireService, type ServiceCheck } from './services.js';
export type { StoreBackend, StoreFactory } from './store-fixture.js';
export { eventually, uniqueName } from './wait.js';
export {
  OUTBOX_CONTRACT_LEASE_MS,
  OUTBOX_CONTRACT_MAX_EVENTS,
  type WebhookOutboxFactory,
  webhookOutboxContract,
} from './webhook-outbox-contract.js';
