import { type IDBPDatabase, openDB } from 'idb';
import type { ReplicaRecord, ReplicaStore } from './replica-store.js';

const OBJECT_STORE = 'replicas';

/**
 * A store in the browser's IndexedDB (database `name`, default
 * `syncline`): pending mutations survive page reloads and offline periods.
 * Tabs that share a database must not open the same document at once; give
 * each tab its own `name` (for instance from `sessionStorage`) when they may.
 */
export function indexedDbStore(options: { name?: string } = {}): ReplicaStore {
  let db: Promise<IDBPDatabase> | undefined;
  const open = (): Promise<IDBPDatabase> => {
    db ??= openDB(options.name ?? 'syncline', 1, {
      upgrade(d) {
        if (!d.objectStoreNames.contains(OBJECT_STORE)) d.createObjectStore(OBJECT_STORE);
      },
    });
    return db;
  };
  return {
    async load(doc) {
      return (await (await open()).get(OBJECT_STORE, doc)) as ReplicaRecord | undefined;
    },
    async save(doc, record) {
      await (await open()).put(OBJECT_STORE, record, doc);
    },
    async remove(doc) {
      await (await open()).delete(OBJECT_STORE, doc);
    },
  };
}
