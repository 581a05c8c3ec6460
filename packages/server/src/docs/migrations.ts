import { type DocPatch, type DocPatchMessage, SynclineError } from '@syncline/protocol';
import type { DocStore } from './doc-store.js';

/** A migration: a pure function from a state of schema version n - 1 to version n. */
export type DocMigration = (state: never) => unknown;

/** Schema version settings of a namespace, resolved. */
export interface DocSchemaVersions {
  /** Schema version of the state this node's mutators work on (default 1). */
  readonly schemaVersion: number;
  /** `migrations[n]` turns a version n - 1 state into version n. */
  readonly migrations: Readonly<Record<number, DocMigration>>;
  /** Oldest mutator set version (`defineMutators(…, { version })`) whose mutations are accepted (default 0, which accepts every version). */
  readonly minMutatorVersion: number;
}

/** Checks and resolves a namespace's `schemaVersion`, `migrations` and `minMutatorVersion`. */
export function resolveSchemaVersions(
  ns: string,
  o: { schemaVersion?: number; migrations?: Readonly<Record<number, DocMigration>>; minMutatorVersion?: number },
): DocSchemaVersions {
  const schemaVersion = o.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new TypeError(`Document namespace "${ns}": schemaVersion must be a positive integer.`);
  }
  const migrations = o.migrations ?? {};
  for (const key of Object.keys(migrations)) {
    const n = Number(key);
    if (!Number.isInteger(n) || n < 2 || n > schemaVersion || typeof migrations[n] !== 'function') {
      throw new TypeError(
        `Document namespace "${ns}": migrations must map versions 2..${schemaVersion} to functions (got "${key}").`,
      );
    }
  }
  const minMutatorVersion = o.minMutatorVersion ?? 0;
  if (!Number.isInteger(minMutatorVersion) || minMutatorVersion < 0) {
    throw new TypeError(`Document namespace "${ns}": minMutatorVersion must be a non-negative integer.`);
  }
  return { schemaVersion, migrations, minMutatorVersion };
}

/** Schema version of a loaded document: the newest recorded by its ops or its snapshot; 1 when none is. */
export function storedSchemaVersion(loaded: {
  readonly snapshot: { readonly schemaVersion?: number | undefined } | undefined;
  readonly ops: ReadonlyArray<{ readonly schemaVersion?: number | undefined }>;
}): number {
  for (let i = loaded.ops.length - 1; i >= 0; i--) {
    const v = loaded.ops[i]?.schemaVersion;
    if (v !== undefined) return v;
  }
  return loaded.snapshot?.schemaVersion ?? 1;
}

/**
 * Brings a loaded document to the namespace's schema version: runs
 * `migrations[from + 1] … migrations[to]` on the state and commits the
 * result as one op (a whole-state replace, recorded with the new schema
 * version and a snapshot), so the op log says when the shape changed and
 * clients holding an older state converge through the ordinary catch-up.
 * Returns the op to fan out, or undefined when nothing had to change.
 *
 * A document already past this node's version (a newer node migrated it)
 * is refused with `unavailable`: this node's mutators do not know its
 * shape, and clients retry until a newer node serves them.
 */
export async function migrateLoaded(
  store: DocStore,
  doc: string,
  versions: DocSchemaVersions,
  loaded: { version: number; state: unknown; schemaVersion: number },
): Promise<{ state: unknown; version: number; message: DocPatchMessage } | undefined> {
  const from = loaded.schemaVersion;
  const to = versions.schemaVersion;
  if (from === to) return undefined;
  if (from > to) {
    throw new SynclineError(
      'unavailable',
      `Document "${doc}" has schema version ${from}, newer than this node's ${to}; a newer node serves it.`,
      { retryAfterMs: 1_000, details: { schemaVersion: from, nodeSchemaVersion: to } },
    );
  }
  // A document never written starts at the current version (its initial state is already of that shape).
  if (loaded.version === 0) return undefined;
  let state = loaded.state;
  for (let n = from + 1; n <= to; n++) {
    const m = versions.migrations[n];
    if (!m) throw new SynclineError('internal', `Document "${doc}": no migration to schema version ${n}.`);
    state = JSON.parse(JSON.stringify((m as (s: unknown) => unknown)(structuredClone(state)) ?? null)) as unknown;
  }
  const version = loaded.version + 1;
  const ts = Date.now();
  const patches: DocPatch[] = [{ op: 'replace', path: [], value: state }];
  await store.commit({ doc, version, patches, ts, schemaVersion: to, snapshot: state });
  return { state, version, message: { type: 'doc.patch', doc, version, patches, ts, schemaVersion: to } };
}
