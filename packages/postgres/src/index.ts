export { MIGRATIONS, migrate } from './migrations.js';
export {
  PG_CONNECT_TIMEOUT_MS,
  PG_PROBE_TIMEOUT_MS,
  PostgresDocStore,
  type PostgresDocStoreOptions,
} from './postgres-doc-store.js';
export {
  OUTBOX_COUNT_MAX_AGE_MS,
  PostgresWebhookOutbox,
  type PostgresWebhookOutboxOptions,
  type PostgresWebhookOutboxSettings,
} from './postgres-webhook-outbox.js';
