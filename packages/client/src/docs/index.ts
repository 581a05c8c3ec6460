export type { DocHost, DocMessageHandler } from './doc-host.js';
export {
  type DocEvents,
  type DocMutate,
  type DocOptions,
  DocReplica,
  type DocStatus,
} from './doc-replica.js';
export type { DocUndoOptions } from './doc-undo.js';
export { fileStore } from './file-store.js';
export { indexedDbStore } from './indexeddb-store.js';
export { type DocOpener, openDoc, type StateOf } from './open-doc.js';
export type { PendingMutation } from './pending-view.js';
export { memoryStore, type PersistedMutation, type ReplicaRecord, type ReplicaStore } from './replica-store.js';
