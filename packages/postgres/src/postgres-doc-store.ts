import { SynclineError } from '@syncline/protocol';
import {
  type BackendHealth,
  type CommitInput,
  type CommitListener,
  type DocListQuery,
  type DocStore,
  DocVersionConflict,
  type HealthListener,
  HealthSignal,
  type LoadedDocument,
  nameRange,
  nameRangeSql,
  OP_COLUMNS,
  type OpRow,
  opRowParams,
  opRowValues,
  type SnapshotRow,
  type StoredDocInfo,
  type StoredOp,
  snapshotFromRow,
  startHealthProbe,
  storedOpFromRow,
  type WebhookOutboxSettings,
} from '@syncline/server';
import type pg from 'pg';
import { openMigratedPool } from './migrations.js';
import { PostgresWebhookOutbox } from './postgres-webhook-outbox.js';

/** Options of the PostgreSQL document store. */
export interface PostgresDocStoreOptions {
  /** `postgres://user:password@host:5432/database` */
  readonly url: string;
  /** Most pooled connections of this node (default 10). */
  readonly maxConnections?: number;
  /** Receives pool-level failures (a connection dropped while idle). */
  readonly onError?: (err: unknown) => void;
  /** Longest wait for a new connection before a call fails (default `PG_CONNECT_TIMEOUT_MS`). */
  readonly connectTimeoutMs?: number;
  /** How often `SELECT 1` checks the database answers (default `HEALTH_PROBE_INTERVAL_MS`). */
  readonly probeIntervalMs?: number;
  /** Longest the probe may take before the database counts as down (default `PG_PROBE_TIMEOUT_MS`). */
  readonly probeTimeoutMs?: number;
}

/**
 * Default longest `SELECT 1` probe: a little more than the generic probe
 * timeout, since it may wait for a pooled connection under load.
 */
export const PG_PROBE_TIMEOUT_MS = 1_500;

/** Default longest wait for a new PostgreSQL connection. */
export const PG_CONNECT_TIMEOUT_MS = 2_000;

/** What clients are told while the database is known to be down. */
const DOCS_UNAVAILABLE_MESSAGE = 'Document storage is unavailable; retry shortly.';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * A `DocStore` on PostgreSQL for a cluster: documents, op log, snapshots, the
 * last mutation id of each client and the horizon of pruned client rows. Migrations run at `connect`. A commit
 * takes the document's row lock (`SELECT … FOR UPDATE` on its head) inside its
 * transaction, so across nodes there is one writer per document at a time and
 * a writer working from a stale version gets `DocVersionConflict`.
 */
export class PostgresDocStore implements DocStore {
  /** Several nodes share this store: engines must catch up from it before each job. */
  readonly shared = true;
  readonly #pool: pg.Pool;
  readonly #health: HealthSignal;
  readonly #stopProbe: () => void;
  readonly #commitListeners = new Set<CommitListener>();

  private constructor(pool: pg.Pool, options: PostgresDocStoreOptions) {
    this.#pool = pool;
    this.#health = new HealthSignal(options.onError);
    // A connection lost while idle marks the database down at once; the
    // probe (which also catches a database that stopped answering) brings it back.
    pool.on('error', (err) => this.#health.set(false, `pooled connection failed: ${err.message}`));
    this.#stopProbe = startHealthProbe({
      probe: () => pool.query('SELECT 1'),
      onResult: (err) => {
        if (err === undefined) this.#health.set(true);
        else this.#health.set(false, `SELECT 1 failed: ${err instanceof Error ? err.message : String(err)}`);
      },
      ...(options.probeIntervalMs === undefined ? {} : { intervalMs: options.probeIntervalMs }),
      timeoutMs: options.probeTimeoutMs ?? PG_PROBE_TIMEOUT_MS,
    });
  }

  /** Whether PostgreSQL answers (see `HealthReporter`): down within 3 s of losing it. */
  health(): BackendHealth {
    return this.#health.health();
  }

  /** Calls `listener` on every change of `health()`. */
  onHealth(listener: HealthListener): () => void {
    return this.#health.onHealth(listener);
  }

  /**
   * Runs `listener` in each commit's transaction, after its rows, with the
   * transaction's client: what it writes commits or rolls back with the op.
   */
  onCommit(listener: CommitListener): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /**
   * The webhook outbox of this node on the same database and pool, so that
   * `doc.committed` events are written in their commit's transaction (the
   * server option `webhookOutbox: (s) => store.webhookOutbox(s)`).
   */
  webhookOutbox(settings: WebhookOutboxSettings): PostgresWebhookOutbox {
    return new PostgresWebhookOutbox(this.#pool, settings);
  }

  /** Fails at once while the database is known to be down (nothing is sent, nothing applied). */
  #assertUp(): void {
    const h = this.#health.health();
    if (!h.up) {
      throw new SynclineError('unavailable', DOCS_UNAVAILABLE_MESSAGE, {
        cause: new Error(h.reason ?? 'PostgreSQL is down'),
        retryAfterMs: 1_000,
      });
    }
  }

  /** Connects, runs pending migrations and returns the store. */
  static async connect(options: PostgresDocStoreOptions): Promise<PostgresDocStore> {
    const pool = await openMigratedPool({
      url: options.url,
      max: options.maxConnections ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? PG_CONNECT_TIMEOUT_MS,
      onError: options.onError,
    });
    return new PostgresDocStore(pool, options);
  }

  async #tx<T>(isolation: 'READ COMMITTED' | 'REPEATABLE READ', fn: (c: Queryable) => Promise<T>): Promise<T> {
    this.#assertUp();
    const client = await this.#pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async #head(c: Queryable, doc: string): Promise<number> {
    const r = await c.query<{ version: string }>('SELECT version FROM syncline_doc_heads WHERE doc = $1', [doc]);
    return r.rows[0] ? Number(r.rows[0].version) : 0;
  }

  async load(doc: string): Promise<LoadedDocument> {
    return this.#tx('REPEATABLE READ', async (c) => {
      const version = await this.#head(c, doc);
      const s = await c.query<SnapshotRow>(
        'SELECT version, state, schema_version FROM syncline_doc_snapshots WHERE doc = $1',
        [doc],
      );
      const snapshot = snapshotFromRow(s.rows[0]);
      const ops = await c.query<OpRow>(
        `SELECT ${OP_COLUMNS} FROM syncline_doc_ops WHERE doc = $1 AND version > $2 ORDER BY version`,
        [doc, snapshot?.version ?? 0],
      );
      return { version, snapshot, ops: ops.rows.map(storedOpFromRow) };
    });
  }

  async commit(input: CommitInput): Promise<void> {
    await this.#tx('READ COMMITTED', async (c) => {
      // The head row is the document's lock: created if missing, then locked.
      await c.query(
        'INSERT INTO syncline_doc_heads (doc, version, updated_at) VALUES ($1, 0, $2) ON CONFLICT (doc) DO NOTHING',
        [input.doc, input.ts],
      );
      const r = await c.query<{ version: string }>('SELECT version FROM syncline_doc_heads WHERE doc = $1 FOR UPDATE', [
        input.doc,
      ]);
      const current = Number(r.rows[0]?.version ?? 0);
      if (current !== input.version - 1) throw new DocVersionConflict(input.doc, input.version - 1, current);
      await c.query(
        `INSERT INTO syncline_doc_ops (doc, ${OP_COLUMNS}) VALUES (${opRowParams((i) => `$${i + 1}`)})`,
        opRowValues(input),
      );
      await c.query('UPDATE syncline_doc_heads SET version = $2, updated_at = $3 WHERE doc = $1', [
        input.doc,
        input.version,
        input.ts,
      ]);
      if (input.snapshot !== undefined) {
        await c.query(
          `INSERT INTO syncline_doc_snapshots (doc, version, state, ts, schema_version) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (doc) DO UPDATE SET version = excluded.version, state = excluded.state, ts = excluded.ts,
             schema_version = excluded.schema_version`,
          [input.doc, input.version, JSON.stringify(input.snapshot), input.ts, input.schemaVersion ?? null],
        );
      }
      if (input.clientId !== undefined && input.mutationId !== undefined) {
        await this.#setClient(c, input.doc, input.clientId, input.mutationId, input.ts);
      }
      for (const listener of this.#commitListeners) await listener(input, c);
    });
  }

  async #setClient(c: Queryable, doc: string, clientId: string, mutationId: number, now: number): Promise<void> {
    await c.query(
      `INSERT INTO syncline_doc_clients (doc, client_id, last_mutation_id, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (doc, client_id) DO UPDATE SET
         last_mutation_id = GREATEST(syncline_doc_clients.last_mutation_id, excluded.last_mutation_id),
         updated_at = excluded.updated_at`,
      [doc, clientId, mutationId, now],
    );
  }

  async advanceClient(doc: string, clientId: string, mutationId: number): Promise<void> {
    this.#assertUp();
    await this.#setClient(this.#pool, doc, clientId, mutationId, Date.now());
  }

  async lastMutationId(doc: string, clientId: string): Promise<number> {
    this.#assertUp();
    const r = await this.#pool.query<{ last_mutation_id: string }>(
      'SELECT last_mutation_id FROM syncline_doc_clients WHERE doc = $1 AND client_id = $2',
      [doc, clientId],
    );
    return r.rows[0] ? Number(r.rows[0].last_mutation_id) : 0;
  }

  async pruneClients(doc: string, before: number): Promise<number> {
    return this.#tx('READ COMMITTED', async (c) => {
      const r = await c.query<{ n: string; m: string | null }>(
        `WITH gone AS (DELETE FROM syncline_doc_clients WHERE doc = $1 AND updated_at < $2 RETURNING updated_at)
         SELECT COUNT(*) AS n, MAX(updated_at) AS m FROM gone`,
        [doc, before],
      );
      const row = r.rows[0];
      if (!row || row.m === null) return 0;
      await c.query(
        `INSERT INTO syncline_doc_client_horizons (doc, pruned_up_to) VALUES ($1, $2)
         ON CONFLICT (doc) DO UPDATE SET
           pruned_up_to = GREATEST(syncline_doc_client_horizons.pruned_up_to, excluded.pruned_up_to)`,
        [doc, row.m],
      );
      return Number(row.n);
    });
  }

  async clientsPrunedUpTo(doc: string): Promise<number> {
    this.#assertUp();
    const r = await this.#pool.query<{ pruned_up_to: string }>(
      'SELECT pruned_up_to FROM syncline_doc_client_horizons WHERE doc = $1',
      [doc],
    );
    return r.rows[0] ? Number(r.rows[0].pruned_up_to) : 0;
  }

  async opsSince(doc: string, version: number, limit: number): Promise<StoredOp[] | 'too_old'> {
    return this.#tx('REPEATABLE READ', async (c) => {
      const head = await this.#head(c, doc);
      if (version > head || head - version > limit) return 'too_old' as const;
      if (version === head) return [];
      const min = await c.query<{ m: string | null }>('SELECT MIN(version) AS m FROM syncline_doc_ops WHERE doc = $1', [
        doc,
      ]);
      const m = min.rows[0]?.m;
      if (m === null || m === undefined || Number(m) > version + 1) return 'too_old' as const;
      const ops = await c.query<OpRow>(
        `SELECT ${OP_COLUMNS} FROM syncline_doc_ops WHERE doc = $1 AND version > $2 ORDER BY version LIMIT $3`,
        [doc, version, limit],
      );
      return ops.rows.map(storedOpFromRow);
    });
  }

  async opsBefore(doc: string, before: number, limit: number): Promise<StoredOp[]> {
    this.#assertUp();
    const r = await this.#pool.query<OpRow>(
      `SELECT ${OP_COLUMNS} FROM syncline_doc_ops WHERE doc = $1 AND version < $2 ORDER BY version DESC LIMIT $3`,
      [doc, before, limit],
    );
    return r.rows.map(storedOpFromRow);
  }

  /** Names compare in code point order ("C" collation), on the index of migration 005. */
  async listDocs(query: DocListQuery): Promise<StoredDocInfo[]> {
    this.#assertUp();
    const range = nameRangeSql(nameRange(query), 'doc COLLATE "C"', (i) => `$${i + 1}`);
    const r = await this.#pool.query<{ doc: string; version: string; updated_at: string }>(
      `SELECT doc, version, updated_at FROM syncline_doc_heads WHERE ${range.sql} AND version > 0
       ORDER BY doc COLLATE "C" LIMIT $${range.values.length + 1}`,
      [...range.values, query.limit],
    );
    return r.rows.map((row) => ({ doc: row.doc, version: Number(row.version), updatedAt: Number(row.updated_at) }));
  }

  async countClients(doc: string): Promise<number> {
    this.#assertUp();
    const r = await this.#pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM syncline_doc_clients WHERE doc = $1', [
      doc,
    ]);
    return Number(r.rows[0]?.n ?? 0);
  }

  async compact(doc: string, upTo: number): Promise<number> {
    this.#assertUp();
    const r = await this.#pool.query(
      // Never past the snapshot; nothing at all without one (the subquery is NULL).
      `DELETE FROM syncline_doc_ops WHERE doc = $1 AND version <=
         (SELECT LEAST($2::bigint, version) FROM syncline_doc_snapshots WHERE doc = $1)`,
      [doc, upTo],
    );
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    this.#stopProbe();
    await this.#pool.end();
  }
}
