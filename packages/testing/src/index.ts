export { type BrokerBackend, type BrokerFactory, brokerContract } from './broker-contract.js';
export { requireService, type ServiceCheck } from './services.js';
export { eventually, uniqueName } from './wait.js';
