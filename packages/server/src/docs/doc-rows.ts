import type { DocOp, DocPatch, DocPatchMessage } from '@syncline/protocol';
import type { CommitInput, LoadedDocument, StoredOp } from './doc-store.js';

/**
 * Column names of an op row in the SQL document stores, in the order of
 * `opRowValues`.
 */
export const OP_COLUMNS =
  'version, patches, client_id, mutation_id, user_id, ts, schema_version, mutator, args, args_bytes';

/** The placeholders of an op row insert (`doc` then `OP_COLUMNS`), written by `param(i)` with i from 0. */
export function opRowParams(param: (i: number) => string): string {
  return Array.from({ length: 11 }, (_, i) => param(i)).join(', ');
}

/**
 * An op row as a SQL document store reads it back. Integers may come back as
 * strings (PostgreSQL `BIGINT`) or numbers (SQLite).
 */
export interface OpRow {
  readonly version: number | string;
  /** The patches as JSON. */
  readonly patches: string;
  readonly client_id: string | null;
  readonly mutation_id: number | string | null;
  readonly user_id: string | null;
  readonly ts: number | string;
  readonly schema_version: number | null;
  readonly mutator: string | null;
  /** The arguments as JSON. */
  readonly args: string | null;
  readonly args_bytes: number | string | null;
}

/** A snapshot row as a SQL document store reads it back (`state` as JSON). */
export interface SnapshotRow {
  readonly version: number | string;
  readonly state: string;
  readonly schema_version: number | null;
}

/** The op row values of a commit: `doc` then the columns of `OP_COLUMNS`, absent fields as `null`. */
export function opRowValues(
  input: CommitInput,
): [
  string,
  number,
  string,
  string | null,
  number | null,
  string | null,
  number,
  number | null,
  string | null,
  string | null,
  number | null,
] {
  return [
    input.doc,
    input.version,
    JSON.stringify(input.patches),
    input.clientId ?? null,
    input.mutationId ?? null,
    input.userId ?? null,
    input.ts,
    input.schemaVersion ?? null,
    input.call?.mutator ?? null,
    input.call?.argsJson ?? null,
    input.call?.argsBytes ?? null,
  ];
}

/** The stored op of a row read back; `null` columns are left out. */
export function storedOpFromRow(r: OpRow): StoredOp {
  const op: { -readonly [K in keyof StoredOp]: StoredOp[K] } = {
    version: Number(r.version),
    patches: JSON.parse(r.patches) as DocPatch[],
    ts: Number(r.ts),
  };
  if (r.client_id !== null) op.clientId = r.client_id;
  if (r.mutation_id !== null) op.mutationId = Number(r.mutation_id);
  if (r.user_id !== null) op.userId = r.user_id;
  if (r.schema_version !== null) op.schemaVersion = r.schema_version;
  if (r.mutator !== null) op.mutator = r.mutator;
  if (r.args !== null) op.args = JSON.parse(r.args) as unknown;
  if (r.args_bytes !== null) op.argsBytes = Number(r.args_bytes);
  return op;
}

/** The snapshot of a row read back (none without a row). */
export function snapshotFromRow(row: SnapshotRow | undefined): LoadedDocument['snapshot'] {
  return row
    ? {
        version: Number(row.version),
        state: JSON.parse(row.state) as unknown,
        schemaVersion: row.schema_version ?? undefined,
      }
    : undefined;
}

/** The wire form of a stored op (`ops` of a `doc.subscribe` reply): what clients may see of it. */
export function publicOp(op: StoredOp): DocOp {
  const out: { -readonly [K in keyof DocOp]: DocOp[K] } = { version: op.version, patches: op.patches, ts: op.ts };
  if (op.clientId !== undefined) out.clientId = op.clientId;
  if (op.mutationId !== undefined) out.mutationId = op.mutationId;
  if (op.schemaVersion !== undefined) out.schemaVersion = op.schemaVersion;
  return out;
}

/** The `doc.patch` message of a stored op: one conversion for every fan-out (embedded and Redis). */
export function patchMessageOf(doc: string, op: StoredOp): DocPatchMessage {
  return { type: 'doc.patch', doc, ...publicOp(op) };
}
