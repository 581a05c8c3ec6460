import { MemoryPresenceStore, openDatabase, SqliteDocStore, SqliteWebhookOutbox } from '@syncline/server';
import {
  docStoreContract,
  OUTBOX_CONTRACT_MAX_EVENTS,
  presenceStoreContract,
  webhookOutboxContract,
} from '@syncline/testing';

docStoreContract({
  name: 'SqliteDocStore',
  multiNode: false,
  async create() {
    const db = openDatabase(':memory:');
    return {
      open: async () => new SqliteDocStore(db),
      close: async () => {
        db.close();
      },
    };
  },
});

presenceStoreContract({
  name: 'MemoryPresenceStore',
  multiNode: false,
  async create() {
    return { open: async () => new MemoryPresenceStore(), close: async () => undefined };
  },
});

webhookOutboxContract({
  name: 'SqliteWebhookOutbox',
  multiNode: false,
  async create() {
    const db = openDatabase(':memory:');
    const urls = new Map([
      [0, 'http://127.0.0.1:1/a'],
      [1, 'http://127.0.0.1:1/b'],
    ]);
    return {
      open: async () => new SqliteWebhookOutbox(db, { maxEvents: OUTBOX_CONTRACT_MAX_EVENTS, urls }),
      close: async () => {
        db.close();
      },
    };
  },
});
