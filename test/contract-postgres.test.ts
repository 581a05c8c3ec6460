import { PostgresDocStore } from '@syncline/postgres';
import { docStoreContract } from '@syncline/testing';
import { describe } from 'vitest';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';

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
});
