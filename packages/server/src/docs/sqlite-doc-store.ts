import type { Statement } from 'better-sqlite3';
import { migrate, type SqliteDatabase } from '../storage/sqlite.js';
import { type DocListQuery, nameRange, nameRangeSql, type StoredDocInfo } from './doc-listing.js';
import {
  OP_COLUMNS,
  type OpRow,
  opRowParams,
  opRowValues,
  type SnapshotRow,
  snapshotFromRow,
  storedOpFromRow,
} from './doc-rows.js';
import {
  type CommitInput,
  type CommitListener,
  type DocStore,
  DocVersionConflict,
  type LoadedDocument,
  type StoredOp,
} from './doc-store.js';

const MIGRATION = `
CREATE TABLE doc_heads (doc TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE doc_snapshots (doc TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE doc_ops (
  doc TEXT NOT NULL, version INTEGER NOT NULL, patches TEXT NOT NULL,
  client_id TEXT, mutation_id INTEGER, user_id TEXT, ts INTEGER NOT NULL,
  PRIMARY KEY (doc, version)
) WITHOUT ROWID;
CREATE TABLE doc_clients (
  doc TEXT NOT NULL, client_id TEXT NOT NULL, last_mutation_id INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (doc, client_id)
) WITHOUT ROWID;
`;

const MIGRATION_2 = `
ALTER TABLE doc_ops ADD COLUMN schema_version INTEGER;
ALTER TABLE doc_snapshots ADD COLUMN schema_version INTEGER;
`;

/** The mutator call of each op (name, small arguments, their size), for the op log of the HTTP API. */
const MIGRATION_4 = `
ALTER TABLE doc_ops ADD COLUMN mutator TEXT;
ALTER TABLE doc_ops ADD COLUMN args TEXT;
ALTER TABLE doc_ops ADD COLUMN args_bytes INTEGER;
`;

const MIGRATION_3 = `
CREATE TABLE doc_client_horizons (doc TEXT PRIMARY KEY, pruned_up_to INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX doc_clients_updated ON doc_clients (doc, updated_at);
`;

/** A row of the document list. */
interface ListRow {
  readonly doc: string;
  readonly version: number;
  readonly updated_at: number;
}

/** A commit waiting for its turn's transaction. */
interface PendingCommit {
  readonly input: CommitInput;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The embedded `DocStore` on the server's SQLite database (better-sqlite3).
 * Every call runs synchronously inside a transaction; the promise API is for
 * interchangeability with network stores.
 */
export class SqliteDocStore implements DocStore {
  readonly #db: SqliteDatabase;
  readonly #stmts;
  /** Commits of the current event-loop turn after its first, written together. */
  readonly #commits: PendingCommit[] = [];
  /** True once a commit was written in the current event-loop turn. */
  #turnHadCommit = false;
  readonly #commitListeners = new Set<CommitListener>();
  /** Listing statements by their WHERE condition (four shapes: see `nameRangeSql`). */
  readonly #listStmts = new Map<string, Statement<unknown[], ListRow>>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
    migrate(db, 'docs-1', MIGRATION);
    migrate(db, 'docs-2-schema-versions', MIGRATION_2);
    migrate(db, 'docs-3-client-pruning', MIGRATION_3);
    migrate(db, 'docs-4-op-calls', MIGRATION_4);
    this.#stmts = {
      head: db.prepare<[string], { version: number }>('SELECT version FROM doc_heads WHERE doc = ?'),
      setHead: db.prepare(
        'INSERT INTO doc_heads (doc, version, updated_at) VALUES (?, ?, ?) ON CONFLICT(doc) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at',
      ),
      snapshot: db.prepare<[string], SnapshotRow & { version: number }>(
        'SELECT version, state, schema_version FROM doc_snapshots WHERE doc = ?',
      ),
      setSnapshot: db.prepare(
        'INSERT INTO doc_snapshots (doc, version, state, ts, schema_version) VALUES (?, ?, ?, ?, ?) ON CONFLICT(doc) DO UPDATE SET version = excluded.version, state = excluded.state, ts = excluded.ts, schema_version = excluded.schema_version',
      ),
      insertOp: db.prepare(`INSERT INTO doc_ops (doc, ${OP_COLUMNS}) VALUES (${opRowParams(() => '?')})`),
      opsAfter: db.prepare<[string, number, number], OpRow>(
        `SELECT ${OP_COLUMNS} FROM doc_ops WHERE doc = ? AND version > ? ORDER BY version LIMIT ?`,
      ),
      opsBefore: db.prepare<[string, number, number], OpRow>(
        `SELECT ${OP_COLUMNS} FROM doc_ops WHERE doc = ? AND version < ? ORDER BY version DESC LIMIT ?`,
      ),
      countClients: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM doc_clients WHERE doc = ?'),
      minOp: db.prepare<[string], { m: number | null }>('SELECT MIN(version) AS m FROM doc_ops WHERE doc = ?'),
      deleteOps: db.prepare('DELETE FROM doc_ops WHERE doc = ? AND version <= ?'),
      client: db.prepare<[string, string], { last_mutation_id: number }>(
        'SELECT last_mutation_id FROM doc_clients WHERE doc = ? AND client_id = ?',
      ),
      setClient: db.prepare(
        'INSERT INTO doc_clients (doc, client_id, last_mutation_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(doc, client_id) DO UPDATE SET last_mutation_id = MAX(last_mutation_id, excluded.last_mutation_id), updated_at = excluded.updated_at',
      ),
      newestStale: db.prepare<[string, number], { m: number | null }>(
        'SELECT MAX(updated_at) AS m FROM doc_clients WHERE doc = ? AND updated_at < ?',
      ),
      deleteStale: db.prepare('DELETE FROM doc_clients WHERE doc = ? AND updated_at < ?'),
      horizon: db.prepare<[string], { pruned_up_to: number }>(
        'SELECT pruned_up_to FROM doc_client_horizons WHERE doc = ?',
      ),
      raiseHorizon: db.prepare(
        'INSERT INTO doc_client_horizons (doc, pruned_up_to) VALUES (?, ?) ON CONFLICT(doc) DO UPDATE SET pruned_up_to = MAX(pruned_up_to, excluded.pruned_up_to)',
      ),
    };
  }

  onCommit(listener: CommitListener): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  #version(doc: string): number {
    return this.#stmts.head.get(doc)?.version ?? 0;
  }

  async load(doc: string): Promise<LoadedDocument> {
    return this.#db.transaction(() => {
      const version = this.#version(doc);
      const snapshot = snapshotFromRow(this.#stmts.snapshot.get(doc));
      const ops = this.#stmts.opsAfter.all(doc, snapshot?.version ?? 0, Number.MAX_SAFE_INTEGER).map(storedOpFromRow);
      return { version, snapshot, ops };
    })();
  }

  /**
   * Commits are grouped under load: the first commit of an event-loop turn is
   * written at once, in its own transaction (no added latency when traffic is
   * light); the others of the same turn (mutations of other documents) wait
   * for one shared transaction, run after the turn's I/O. Each promise
   * settles once its commit is durable; a version conflict fails only its own.
   */
  commit(input: CommitInput): Promise<void> {
    if (!this.#turnHadCommit) {
      this.#turnHadCommit = true;
      setImmediate(this.#endTurn);
      try {
        const conflict = this.#db.transaction(() => this.#write(input))();
        return conflict ? Promise.reject(conflict) : Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      this.#commits.push({ input, resolve, reject });
      if (this.#commits.length === 1) setImmediate(this.#flushCommits);
    });
  }

  readonly #endTurn = (): void => {
    this.#turnHadCommit = false;
  };

  readonly #flushCommits = (): void => {
    const batch = this.#commits.splice(0);
    const outcomes: Array<DocVersionConflict | undefined> = [];
    try {
      this.#db.transaction(() => {
        for (const { input } of batch) outcomes.push(this.#write(input));
      })();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as PendingCommit;
      const conflict = outcomes[i];
      if (conflict) p.reject(conflict);
      else p.resolve();
    }
  };

  /** Writes one commit inside the batch's transaction; a conflict is returned, not thrown. */
  #write(input: CommitInput): DocVersionConflict | undefined {
    const current = this.#version(input.doc);
    if (current !== input.version - 1) return new DocVersionConflict(input.doc, input.version - 1, current);
    this.#stmts.insertOp.run(...opRowValues(input));
    this.#stmts.setHead.run(input.doc, input.version, input.ts);
    if (input.snapshot !== undefined) {
      this.#stmts.setSnapshot.run(
        input.doc,
        input.version,
        JSON.stringify(input.snapshot),
        input.ts,
        input.schemaVersion ?? null,
      );
    }
    if (input.clientId !== undefined && input.mutationId !== undefined) {
      this.#stmts.setClient.run(input.doc, input.clientId, input.mutationId, input.ts);
    }
    for (const listener of this.#commitListeners) void listener(input, undefined);
    return undefined;
  }

  async advanceClient(doc: string, clientId: string, mutationId: number): Promise<void> {
    this.#stmts.setClient.run(doc, clientId, mutationId, Date.now());
  }

  async lastMutationId(doc: string, clientId: string): Promise<number> {
    return this.#stmts.client.get(doc, clientId)?.last_mutation_id ?? 0;
  }

  async pruneClients(doc: string, before: number): Promise<number> {
    return this.#db.transaction(() => {
      const newest = this.#stmts.newestStale.get(doc, before)?.m ?? null;
      if (newest === null) return 0;
      const removed = this.#stmts.deleteStale.run(doc, before).changes;
      this.#stmts.raiseHorizon.run(doc, newest);
      return removed;
    })();
  }

  async clientsPrunedUpTo(doc: string): Promise<number> {
    return this.#stmts.horizon.get(doc)?.pruned_up_to ?? 0;
  }

  async opsSince(doc: string, version: number, limit: number): Promise<StoredOp[] | 'too_old'> {
    return this.#db.transaction(() => {
      const head = this.#version(doc);
      if (version > head || head - version > limit) return 'too_old' as const;
      if (version === head) return [];
      const min = this.#stmts.minOp.get(doc)?.m ?? null;
      if (min === null || min > version + 1) return 'too_old' as const;
      return this.#stmts.opsAfter.all(doc, version, limit).map(storedOpFromRow);
    })();
  }

  async opsBefore(doc: string, before: number, limit: number): Promise<StoredOp[]> {
    return this.#stmts.opsBefore.all(doc, before, limit).map(storedOpFromRow);
  }

  async listDocs(query: DocListQuery): Promise<StoredDocInfo[]> {
    const range = nameRangeSql(nameRange(query), 'doc', () => '?');
    let stmt = this.#listStmts.get(range.sql);
    if (!stmt) {
      stmt = this.#db.prepare<unknown[], ListRow>(
        `SELECT doc, version, updated_at FROM doc_heads WHERE ${range.sql} ORDER BY doc LIMIT ?`,
      );
      this.#listStmts.set(range.sql, stmt);
    }
    const rows = stmt.all(...range.values, query.limit);
    return rows.map((r) => ({ doc: r.doc, version: r.version, updatedAt: r.updated_at }));
  }

  async countClients(doc: string): Promise<number> {
    return this.#stmts.countClients.get(doc)?.n ?? 0;
  }

  async compact(doc: string, upTo: number): Promise<number> {
    return this.#db.transaction(() => {
      const snap = this.#stmts.snapshot.get(doc);
      if (!snap) return 0;
      return this.#stmts.deleteOps.run(doc, Math.min(upTo, snap.version)).changes;
    })();
  }

  async close(): Promise<void> {
    // The database belongs to the server; nothing of ours to release.
  }
}
