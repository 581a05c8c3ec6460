/**
 * The recorded history of document traffic that {@link checkDocHistory}
 * reads. Plain JSON values only.
 *
 * @module
 */

/**
 * How a mutation attempt ended: `acked` with the document version the server
 * answered (`duplicate: true` when it had applied that mutation id before),
 * `rejected` with an error code, `unknown` (no answer), or `pending` (still in
 * flight when the history was taken; read as unknown).
 */
export type MutationOutcome =
  | { readonly kind: 'acked'; readonly version: number; readonly duplicate?: boolean }
  | { readonly kind: 'rejected'; readonly code: string }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'pending' };

/** One send of a mutation by a client. Resends reuse `clientId` + `mutationId` and are separate records. */
export interface MutationAttempt {
  /** 0, 1, 2 … in the order attempts were recorded. */
  readonly id: number;
  readonly doc: string;
  readonly clientId: string;
  readonly mutationId: number;
  readonly name: string;
  readonly args: unknown;
  readonly outcome: MutationOutcome;
  /**
   * False when the mutator may change nothing: a mutation without patches
   * leaves no op, so it is not required in the op log. Absent means true.
   */
  readonly expectOp?: false;
  readonly invokedAt: number;
  readonly completedAt?: number;
}

/**
 * A server version a replica applied: a `patch` (one op, whose version must
 * follow the replica's) or a `snapshot` (a whole state at a version, after a
 * (re)subscribe; it may jump ahead). Optimistic local changes are not
 * recorded, only what the server confirmed.
 */
export interface ReplicaApplyEvent {
  readonly replica: string;
  readonly doc: string;
  readonly kind: 'patch' | 'snapshot';
  readonly version: number;
  /** The op's client and mutation, when the patch carries them. */
  readonly clientId?: string;
  readonly mutationId?: number;
  readonly at: number;
}

/** A replica's state once the run is quiet. */
export interface ReplicaFinal {
  readonly replica: string;
  readonly doc: string;
  readonly version: number;
  readonly state: unknown;
}

/** One entry of the server's op log. */
export interface OpLogEntry {
  readonly version: number;
  readonly clientId?: string;
  readonly mutationId?: number;
}

/** The server's state of a document at the end, and optionally its op log. */
export interface ServerFinal {
  readonly doc: string;
  readonly version: number;
  readonly state: unknown;
  /** The retained op log (any order); it may start after version 1 when truncated. */
  readonly ops?: readonly OpLogEntry[];
}

/** Everything {@link checkDocHistory} reads. */
export interface RecordedDocHistory {
  readonly mutations: readonly MutationAttempt[];
  /** What replicas applied, in recorded order (per replica, the order it applied them). */
  readonly applied: readonly ReplicaApplyEvent[];
  readonly replicas: readonly ReplicaFinal[];
  /** At most one per document. */
  readonly servers: readonly ServerFinal[];
}
