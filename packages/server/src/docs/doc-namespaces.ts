import {
  createUndoMutator,
  type MutatorDefs,
  parseName,
  type StandardSchemaV1,
  SynclineError,
  UNDO_MUTATOR,
  type UndoStepFilter,
} from '@syncline/protocol';
import { DEFAULT_CLIENT_RETENTION_MS } from './client-retention.js';
import { DEFAULT_DOC_MAX_BYTES } from './doc-size.js';
import { type DocMigration, type DocSchemaVersions, resolveSchemaVersions } from './migrations.js';

/** Options of one document namespace (`ServerOptions.docs[namespace]`). */
export interface DocNamespaceOptions {
  /** The namespace's mutators (`defineMutators`), shared with the clients. */
  readonly mutators: MutatorDefs;
  /** Schema of the whole document (Standard Schema), checked after every mutation. */
  readonly schema?: StandardSchemaV1;
  /** State of a document never written: a JSON object, or a function of the document name. Default `{}`. */
  readonly initialState?: unknown;
  /** Store a snapshot every this many versions (default 100). */
  readonly snapshotEvery?: number;
  /**
   * Ops kept in the log behind the latest version, for clients catching up
   * (default 1,000). Older ops are compacted away when a snapshot is stored;
   * a client further behind gets a snapshot.
   */
  readonly opLogRetention?: number;
  /** Unload a document from memory after this long without subscribers or mutations (default 60 s). */
  readonly idleUnloadMs?: number;
  /**
   * Forget a client's last mutation id on a document after this long without
   * a mutation from it (default 30 days). Rows are deleted when a snapshot is
   * stored; a forgotten client that comes back with pending mutations gets
   * `client_expired` (see docs/documents.md).
   */
  readonly clientRetentionMs?: number;
  /** Schema version of the state the mutators work on (default 1); see docs/versioning.md. */
  readonly schemaVersion?: number;
  /** `migrations[n]`: a pure function turning a version n - 1 state into version n, applied on load. */
  readonly migrations?: Readonly<Record<number, DocMigration>>;
  /** Mutations from mutator sets older than this (`defineMutators(…, { version })`) get `client_outdated`. */
  readonly minMutatorVersion?: number;
  /**
   * Largest a document may grow, in bytes of its JSON (UTF-8; default 1 MiB).
   * A mutation that would make it larger is refused with `doc_too_large`
   * (nothing stored, the mutation id used up); a document already above it
   * still takes mutations that do not grow it.
   */
  readonly maxBytes?: number;
  /**
   * Registers the built-in `$undo` mutator, which the client SDK's
   * `doc.undo()` / `doc.redo()` send: checked steps that change a value only
   * where the document still holds what the step expects (default off).
   * Any client with `mutate` on a document of the namespace may then write
   * any JSON value the document schema accepts, at a path whose current
   * value it names: enable it where `mutate` means "may edit anything in
   * the document", or narrow it with `allow` (per step, e.g. by path and
   * `tx.userId`). See docs/documents.md, "Undo and redo", and docs/security.md.
   */
  readonly undo?: boolean | { readonly allow?: UndoStepFilter };
}

/** A namespace with defaults applied. */
export interface ResolvedDocNamespace {
  readonly name: string;
  readonly mutators: MutatorDefs;
  readonly schema: StandardSchemaV1 | undefined;
  readonly initialState: (doc: string) => unknown;
  readonly snapshotEvery: number;
  readonly opLogRetention: number;
  readonly idleUnloadMs: number;
  readonly clientRetentionMs: number;
  /** Largest JSON size of a document, bytes. */
  readonly maxBytes: number;
  /** Schema version, migrations and minimum mutator set version. */
  readonly versions: DocSchemaVersions;
}

/** Default namespace settings. */
export const DOC_DEFAULTS = {
  snapshotEvery: 100,
  opLogRetention: 1_000,
  idleUnloadMs: 60_000,
  clientRetentionMs: DEFAULT_CLIENT_RETENTION_MS,
  maxBytes: DEFAULT_DOC_MAX_BYTES,
} as const;

function positive(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${what} must be a positive integer.`);
  return v;
}

/** The document namespaces of a server. */
export class DocNamespaces {
  readonly #byName = new Map<string, ResolvedDocNamespace>();

  constructor(options: Readonly<Record<string, DocNamespaceOptions>>) {
    for (const [name, o] of Object.entries(options)) {
      if (!o || typeof o.mutators !== 'object') throw new TypeError(`Document namespace "${name}" needs mutators.`);
      if (Object.hasOwn(o.mutators, UNDO_MUTATOR)) {
        throw new TypeError(`Document namespace "${name}": the mutator name "${UNDO_MUTATOR}" is reserved.`);
      }
      const init = o.initialState;
      this.#byName.set(name, {
        name,
        mutators: o.undo
          ? { ...o.mutators, [UNDO_MUTATOR]: createUndoMutator(o.undo === true ? undefined : o.undo.allow) }
          : o.mutators,
        schema: o.schema,
        initialState:
          typeof init === 'function'
            ? (doc) => (init as (doc: string) => unknown)(doc)
            : () => structuredClone(init === undefined ? {} : init),
        snapshotEvery: positive(o.snapshotEvery, DOC_DEFAULTS.snapshotEvery, 'snapshotEvery'),
        opLogRetention: positive(o.opLogRetention, DOC_DEFAULTS.opLogRetention, 'opLogRetention'),
        idleUnloadMs: positive(o.idleUnloadMs, DOC_DEFAULTS.idleUnloadMs, 'idleUnloadMs'),
        clientRetentionMs: positive(o.clientRetentionMs, DOC_DEFAULTS.clientRetentionMs, 'clientRetentionMs'),
        maxBytes: positive(o.maxBytes, DOC_DEFAULTS.maxBytes, 'maxBytes'),
        versions: resolveSchemaVersions(name, o),
      });
    }
  }

  /** Number of namespaces. */
  get size(): number {
    return this.#byName.size;
  }

  /** Every namespace, in the order of the options. */
  list(): readonly ResolvedDocNamespace[] {
    return [...this.#byName.values()];
  }

  /** True when `namespace` is a document namespace. */
  has(namespace: string): boolean {
    return this.#byName.has(namespace);
  }

  /** The namespace of a document name; throws `bad_channel` or `unknown_namespace`. */
  forDoc(doc: string): ResolvedDocNamespace {
    const parsed = parseName(doc);
    if (!parsed) throw new SynclineError('bad_channel', `Malformed document name "${doc.slice(0, 80)}".`);
    const ns = this.#byName.get(parsed.namespace);
    if (!ns) throw new SynclineError('unknown_namespace', `No document namespace "${parsed.namespace}".`);
    return ns;
  }
}
