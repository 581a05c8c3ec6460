import { type SynclineError, toSynclineError } from '@syncline/protocol';
import type { Entry } from './pending-entry.js';
import type { ReplicaRecord, ReplicaStore } from './replica-store.js';

/** What the saver needs from its replica. */
export interface SaverHost {
  /** True once the replica is closed: nothing more is written. */
  readonly closed: boolean;
  /** The pending entries a record covers. */
  readonly pending: readonly Entry[];
  /** The record to write now. */
  record(): ReplicaRecord;
  /** A write succeeded and marked its entries persisted (they may be sent now). */
  onSaved(): void;
  /** A write failed (reported while the write still counts as in progress). */
  onSaveError(err: SynclineError): void;
  /** After a failed write: call `persist()` again later. */
  retryLater(persist: () => void): void;
}

/**
 * Writes a replica's record to its store, one write at a time: changes made
 * during a write are coalesced into the next one. An entry is marked
 * `persisted` once a write that included it succeeded; only persisted
 * entries are sent, so a mutation the server applied is never lost by a
 * reload.
 */
export class ReplicaSaver {
  readonly #store: ReplicaStore;
  readonly #doc: string;
  readonly #host: SaverHost;
  #dirty = false;
  #saving = false;

  constructor(store: ReplicaStore, doc: string, host: SaverHost) {
    this.#store = store;
    this.#doc = doc;
    this.#host = host;
  }

  /** Loads the stored record, if any. */
  load(): Promise<ReplicaRecord | undefined> {
    return this.#store.load(this.#doc);
  }

  /** Schedules a write of the current record. */
  persist(): void {
    this.#dirty = true;
    if (!this.#saving && !this.#host.closed) void this.#saveLoop();
  }

  /** Resolves once every change made so far is written (or its write failed). */
  async flush(): Promise<void> {
    while (this.#saving || this.#dirty) await new Promise((r) => setTimeout(r, 1));
  }

  async #saveLoop(): Promise<void> {
    this.#saving = true;
    while (this.#dirty && !this.#host.closed) {
      this.#dirty = false;
      const included = [...this.#host.pending];
      try {
        await this.#store.save(this.#doc, this.#host.record());
      } catch (err) {
        this.#host.onSaveError(toSynclineError(err));
        this.#saving = false;
        this.#host.retryLater(() => this.persist());
        return;
      }
      for (const e of included) e.persisted = true;
      this.#host.onSaved();
    }
    this.#saving = false;
  }
}
