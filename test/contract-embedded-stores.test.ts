import { MemoryPresenceStore, openDatabase, SqliteDocStore } from '@syncline/server';
import { docStoreContract, presenceStoreContract } from '@syncline/testing';

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
