import type { DocOp, DocPatch } from '@syncline/protocol';
import type { BackendHealth, HealthListener } from '../health/backend-health.js';
import type { SqlTransaction } from '../storage/sql-transaction.js';
import type { DocListQuery, StoredDocInfo } from './doc-listing.js';

/** An op as the store keeps it (a `DocOp` plus the user and the mutator call that made it). */
export interface StoredOp extends DocOp {
  readonly userId?: string;
  /** Name of the mutator that made the op (absent for ops of a schema migration, or stored before it was kept). */
  readonly mutator?: string;
  /** The mutator's arguments, kept when their JSON is at most `MAX_STORED_ARGS_BYTES`. */
  readonly args?: unknown;
  /** Size of the arguments' JSON in bytes (UTF-8), kept with `mutator` whether or not the arguments were. */
  readonly argsBytes?: number;
}

/** A mutator call as stored with its op: the name, the arguments' JSON when small enough, and its size. */
export interface StoredCall {
  readonly mutator: string;
  /** The arguments as JSON, absent when over `MAX_STORED_ARGS_BYTES` (or when there were none). */
  readonly argsJson?: string;
  readonly argsBytes: number;
}

/** Largest arguments (JSON, UTF-8 bytes) stored with an op; larger ones are stored as their size only. */
export const MAX_STORED_ARGS_BYTES = 4 * 1024;

/** The call to store with an op of mutator `name` run with `args`. */
export function storedCall(name: string, args: unknown): StoredCall {
  if (args === undefined) return { mutator: name, argsBytes: 0 };
  const json = JSON.stringify(args);
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes <= MAX_STORED_ARGS_BYTES
    ? { mutator: name, argsJson: json, argsBytes: bytes }
    : { mutator: name, argsBytes: bytes };
}

/** What `DocStore.load` returns. */
export interface LoadedDocument {
  /** Current version (0 for a document never written). */
  readonly version: number;
  /** Latest snapshot, if one was stored (with the schema version of its state, when recorded). */
  readonly snapshot:
    | { readonly version: number; readonly state: unknown; readonly schemaVersion?: number | undefined }
    | undefined;
  /** Every op after the snapshot's version (or after 0), ascending, up to `version`. */
  readonly ops: readonly StoredOp[];
}

/** One successful mutation to commit. */
export interface CommitInput {
  readonly doc: string;
  /** The new version; the store's current version must be `version - 1`. */
  readonly version: number;
  readonly patches: readonly DocPatch[];
  readonly ts: number;
  readonly clientId?: string;
  readonly mutationId?: number;
  readonly userId?: string;
  /** The mutator call that made the op, for the op log (see `storedCall`). */
  readonly call?: StoredCall;
  /** The full state at `version`, when a snapshot is due. */
  readonly snapshot?: unknown;
  /**
   * Schema version of the state after this op (see docs/versioning.md).
   * Stored with the op and with the snapshot; `load` returns them so the
   * engine knows which migrations a stored document still needs.
   */
  readonly schemaVersion?: number;
}

/**
 * Storage of documents: op log, snapshots, versions, the last mutation id
 * of each client and the horizon of pruned client rows. Every method is async so that network databases can
 * implement it.
 *
 * Contract:
 * - One writer per document at a time is the caller's duty (the embedded
 *   server serializes per document; a cluster holds a lease or row lock).
 *   `commit` still guards against lost updates: it rejects with
 *   `DocVersionConflict` when the stored version is not `version - 1`, and
 *   stores nothing.
 * - `commit` is atomic: the op, the new version, the snapshot (when given)
 *   and the client's last mutation id are all stored, or none is.
 * - `advanceClient` stores only the client's last mutation id (a mutation
 *   rejected for good); it never lowers an id.
 * - `pruneClients` deletes rows and records the horizon atomically: a reader
 *   that no longer finds a pruned client's row sees the raised horizon.
 * - Any other failure rejects (the caller treats it as temporary: nothing
 *   is applied and the mutation id is not used up).
 * - Ops are never rewritten; `compact` only deletes ops that a stored
 *   snapshot already covers, so `load` always has what it needs.
 */
export interface DocStore {
  /**
   * True when several nodes write to this store (a cluster): the engine then
   * brings its memory copy up to the stored version before each job.
   */
  readonly shared?: boolean;
  /** Snapshot + version + ops after the snapshot. A document never written has version 0. */
  load(doc: string): Promise<LoadedDocument>;
  /** Commits one mutation atomically with the client's last mutation id. */
  commit(input: CommitInput): Promise<void>;
  /** Records a permanently failed mutation: advances the client's last id only. */
  advanceClient(doc: string, clientId: string, mutationId: number): Promise<void>;
  /** The client's last applied (or permanently rejected) mutation id; 0 when unknown. */
  lastMutationId(doc: string, clientId: string): Promise<number>;
  /**
   * Deletes the client rows of `doc` last updated (committed or advanced)
   * before `before` (ms since the epoch) and, in the same transaction, raises
   * the document's pruning horizon to the newest `updated_at` it deleted
   * (never lowers it). Resolves with the number of rows deleted. Optional: a
   * store without it keeps every row and never reports a horizon.
   */
  pruneClients?(doc: string, before: number): Promise<number>;
  /**
   * The document's pruning horizon: the newest `updated_at` of a client row
   * `pruneClients` deleted, 0 when none ever was. A client the store does not
   * know may have been pruned when the horizon is above 0.
   */
  clientsPrunedUpTo?(doc: string): Promise<number>;
  /**
   * Ops after `version` (exclusive) up to the latest, at most `limit`.
   * `'too_old'` when the log no longer reaches back to `version + 1` or more
   * than `limit` ops would be needed (send a snapshot instead).
   */
  opsSince(doc: string, version: number, limit: number): Promise<StoredOp[] | 'too_old'>;
  /**
   * Ops still in the log with versions below `before` (exclusive), newest
   * first, at most `limit` (the log keeps what catch-up needs: see the
   * namespace's `opLogRetention`). A document never written has none.
   */
  opsBefore(doc: string, before: number, limit: number): Promise<StoredOp[]>;
  /**
   * Documents written at least once, sorted by name in code point order: those
   * starting with `query.prefix` and after `query.after`, at most
   * `query.limit`. Reads a bounded range of an index, whatever the store holds.
   */
  listDocs(query: DocListQuery): Promise<StoredDocInfo[]>;
  /**
   * How many clients of `doc` the store keeps a last mutation id for (clients
   * that mutated it and were not pruned since: see `pruneClients`).
   */
  countClients(doc: string): Promise<number>;
  /**
   * Deletes ops with version `<= upTo` that the latest snapshot covers
   * (never past it). Resolves with the number of ops removed.
   */
  compact(doc: string, upTo: number): Promise<number>;
  /** Releases resources (the embedded store leaves the shared database open). */
  close(): Promise<void>;
  /**
   * Optional health seam (see `HealthReporter`): a network store reports
   * itself down within `BACKEND_DOWN_DETECT_MS` of losing its database; the
   * node then answers 503 on `/readyz` and refuses `doc.*` commands at once.
   * Absent: always up.
   */
  health?(): BackendHealth;
  /** Calls `listener` on every change of `health()`; returns the remover. */
  onHealth?(listener: HealthListener): () => void;
  /**
   * Optional: runs `listener` inside each successful commit's transaction,
   * after its rows are written (a version conflict calls nothing). What the
   * listener writes to the same database commits or rolls back with the op;
   * what it throws (or rejects with) fails the commit (nothing stored).
   * Returns the remover. The embedded store calls it synchronously with no
   * `tx` (a synchronous write to the node's SQLite joins the transaction);
   * a network store passes its transaction (`tx`) and awaits the listener
   * before committing.
   */
  onCommit?(listener: CommitListener): () => void;
}

/** Runs inside a commit's transaction (see `DocStore.onCommit`); `tx` is the network store's transaction. */
export type CommitListener = (input: CommitInput, tx: SqlTransaction | undefined) => void | Promise<void>;

/** Raised by `DocStore.commit` when another writer moved the document on. */
export class DocVersionConflict extends Error {
  override readonly name = 'DocVersionConflict';
  constructor(
    readonly doc: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Document "${doc}" is at version ${actual}, expected ${expected}.`);
  }
}
