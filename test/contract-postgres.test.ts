import { PostgresDocStore, PostgresWebhookOutbox } from '@syncline/postgres';
import {
  docStoreContract,
  OUTBOX_CONTRACT_LEASE_MS,
  OUTBOX_CONTRACT_MAX_EVENTS,
  webhookOutboxContract,
} from '@syncline/testing';
import { describe } from 'vitest';
import { DATABASE_URL, freshSchema, postgresService } from './cluster/postgres-env.js';

describe.runIf(postgresService.available)('PostgreSQL', () => {
  docStoreContract({
    name: 'PostgresDocStore',
    multiNode: true,
    async create() {
      return {
        open: () => PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 4 }),
        close: async () => undefined,
      };
    },
  });

  let node = 0;
  webhookOutboxContract({
    name: 'PostgresWebhookOutbox',
    multiNode: true,
    async create() {
      // The outbox is one table per deployment: each backend is a schema of its own.
      const schema = await freshSchema();
      return {
        open: () =>
          PostgresWebhookOutbox.connect({
            url: schema.url,
            maxConnections: 2,
            maxEvents: OUTBOX_CONTRACT_MAX_EVENTS,
            urls: new Map([
              [0, 'http://127.0.0.1:1/a'],
              [1, 'http://127.0.0.1:1/b'],
            ]),
            nodeId: `node-${++node}`,
            leaseMs: OUTBOX_CONTRACT_LEASE_MS,
            countMaxAgeMs: 0,
          }),
        close: () => schema.drop(),
      };
    },
  });
});
