import * as v from 'valibot';
import type { DocPatch } from '../docs/patches.js';
import type { ErrorCode } from '../errors.js';
import { Json, Name, RequestId } from './common.js';

/** A client id: stable per client replica store, chosen by the client. */
export const ClientId = v.pipe(v.string(), v.minLength(8), v.maxLength(64), v.regex(/^[A-Za-z0-9_-]+$/));

/** A mutation id: 1, 2, 3 … per client and document. */
export const MutationId = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

/** A mutator name. */
export const MutatorName = v.pipe(v.string(), v.minLength(1), v.maxLength(100));

/**
 * Subscribe to a document. With `version` the server answers with the ops
 * since then (or a snapshot when its log no longer reaches back); with
 * `clientId` the reply carries that client's last applied mutation id. With
 * `chunks: true` the client accepts a large snapshot in `doc.snapshot`
 * pushes after the reply (paced by how fast it reads).
 */
export const DocSubscribeCommand = v.object({
  type: v.literal('doc.subscribe'),
  id: RequestId,
  doc: Name,
  version: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  clientId: v.optional(ClientId),
  chunks: v.optional(v.boolean()),
});

/** Stop receiving a document's patches. */
export const DocUnsubscribeCommand = v.object({
  type: v.literal('doc.unsubscribe'),
  id: RequestId,
  doc: Name,
});

/** Run a named mutator on a document (exactly once per `clientId` + `mutationId`). */
export const DocMutateCommand = v.object({
  type: v.literal('doc.mutate'),
  id: RequestId,
  doc: Name,
  clientId: ClientId,
  mutationId: MutationId,
  name: MutatorName,
  args: Json,
  /** Version of the client's mutator set (`defineMutators(…, { version })`); checked against `minMutatorVersion`. */
  mutatorVersion: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /**
   * How long ago the client made the mutation (ms, its own clock). The server
   * uses it for mutation id 1 of a client it does not know on a document
   * whose client rows were pruned: made before the pruning horizon, it may
   * be a forgotten client's and gets `client_expired`.
   */
  ageMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))),
});

/** Schemas of the document commands, by `type`. */
export const DOC_COMMANDS = {
  'doc.subscribe': DocSubscribeCommand,
  'doc.unsubscribe': DocUnsubscribeCommand,
  'doc.mutate': DocMutateCommand,
} as const;

/** One committed change of a document. */
export interface DocOp {
  /** Document version after this op (1, 2, 3 … without gaps). */
  readonly version: number;
  readonly patches: readonly DocPatch[];
  /** Client and mutation that produced the op; absent for server/HTTP mutations without a client. */
  readonly clientId?: string;
  readonly mutationId?: number;
  /** Server time of the mutation, ms since the epoch. */
  readonly ts: number;
  /** Present on a schema migration op: the document's schema version after it. */
  readonly schemaVersion?: number;
}

/** Result of `doc.subscribe`. Exactly one of `snapshot`, `ops` and `chunks` is present. */
export interface DocSubscribeResult {
  /** Document version after `snapshot` / `ops`. */
  readonly version: number;
  /** The whole state at `version` (first subscribe, or when the op log no longer reaches back). */
  readonly snapshot?: unknown;
  /** The ops after the requested version, in order. */
  readonly ops?: readonly DocOp[];
  /**
   * The snapshot at `version` follows in this many `doc.snapshot` pushes
   * (only when the subscribe asked for `chunks`): the concatenation of their
   * `data` is its JSON text. Patches after `version` may arrive in between.
   */
  readonly chunks?: number;
  /** Last mutation id the server applied (or rejected for good) for the subscribe's `clientId` (0 if none). */
  readonly lastMutationId: number;
}

/** Result of `doc.mutate`. */
export interface DocMutateResult {
  /** Version of the document after the mutation (for a duplicate: its current version). */
  readonly version: number;
  /** True when the mutation id was applied before: nothing happened now. */
  readonly duplicate?: boolean;
}

/** Server push: an op committed to a subscribed document. */
export interface DocPatchMessage extends DocOp {
  readonly type: 'doc.patch';
  readonly doc: string;
}

/** Server push: the server ended a document subscription (capability shrink …). */
export interface DocUnsubscribedMessage {
  readonly type: 'doc.unsubscribed';
  readonly doc: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Server push: one piece of a snapshot announced by a `doc.subscribe` reply with `chunks`. */
export interface DocSnapshotMessage {
  readonly type: 'doc.snapshot';
  readonly doc: string;
  /** The version of the reply that announced the snapshot. */
  readonly version: number;
  /** 0, 1, 2 … up to `chunks - 1`, in order. */
  readonly index: number;
  /** A piece of the snapshot's JSON text. */
  readonly data: string;
}

/** Server→client messages of the document area. */
export type DocServerMessage = DocPatchMessage | DocUnsubscribedMessage | DocSnapshotMessage;
