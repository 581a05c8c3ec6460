/** A mutation waiting for the server, as persisted. */
export interface PersistedMutation {
  /** Mutation id, 1, 2, 3 … per client id and document. */
  readonly id: number;
  readonly name: string;
  readonly args: unknown;
  /** Client time when it was made (ms since the epoch). */
  readonly ts: number;
}

/** Everything a replica keeps across reloads for one document. */
export interface ReplicaRecord {
  /** Stable id of this replica on the server (exactly-once bookkeeping). */
  readonly clientId: string;
  /** Id of the next mutation. */
  readonly nextMutationId: number;
  /** Last state confirmed by the server. */
  readonly confirmed?: { readonly version: number; readonly state: unknown };
  /** Mutations not yet confirmed, in id order. */
  readonly pending: readonly PersistedMutation[];
}

/**
 * Where replicas keep their client id, pending mutations and last confirmed
 * state. `save` replaces the whole record; it resolves once the record is
 * durable (as durable as the store can make it). A store serves one live
 * replica per document at a time.
 */
export interface ReplicaStore {
  load(doc: string): Promise<ReplicaRecord | undefined>;
  save(doc: string, record: ReplicaRecord): Promise<void>;
  remove(doc: string): Promise<void>;
}

/** A store in memory: pending mutations survive reconnects, not a restart of the process. */
export function memoryStore(): ReplicaStore {
  const records = new Map<string, string>();
  return {
    async load(doc) {
      const r = records.get(doc);
      return r === undefined ? undefined : (JSON.parse(r) as ReplicaRecord);
    },
    async save(doc, record) {
      records.set(doc, JSON.stringify(record));
    },
    async remove(doc) {
      records.delete(doc);
    },
  };
}
