import pg from 'pg';

/** Schema migrations, applied in order, each once. */
export const MIGRATIONS: ReadonlyArray<{ readonly name: string; readonly sql: string }> = [
  {
    name: '001_documents',
    sql: `
CREATE TABLE syncline_doc_heads (
  doc TEXT PRIMARY KEY,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE syncline_doc_snapshots (
  doc TEXT PRIMARY KEY,
  version BIGINT NOT NULL,
  state TEXT NOT NULL,
  ts BIGINT NOT NULL
);
CREATE TABLE syncline_doc_ops (
  doc TEXT NOT NULL,
  version BIGINT NOT NULL,
  patches TEXT NOT NULL,
  client_id TEXT,
  mutation_id BIGINT,
  user_id TEXT,
  ts BIGINT NOT NULL,
  PRIMARY KEY (doc, version)
);
CREATE TABLE syncline_doc_clients (
  doc TEXT NOT NULL,
  client_id TEXT NOT NULL,
  last_mutation_id BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (doc, client_id)
);
`,
  },
  {
    // Schema version of the state after an op / in a snapshot (document migrations).
    name: '002_schema_versions',
    sql: `
ALTER TABLE syncline_doc_ops ADD COLUMN schema_version INTEGER;
ALTER TABLE syncline_doc_snapshots ADD COLUMN schema_version INTEGER;
`,
  },
  {
    // Pruning of client rows not seen for the namespace's clientRetentionMs, and the horizon it leaves.
    name: '003_client_pruning',
    sql: `
CREATE TABLE syncline_doc_client_horizons (
  doc TEXT PRIMARY KEY,
  pruned_up_to BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS syncline_doc_clients_updated ON syncline_doc_clients (doc, updated_at);
`,
  },
  {
    // The shared webhook outbox (one row per event and receiver) and the nodes' claims on its streams.
    name: '004_webhook_outbox',
    sql: `
CREATE TABLE syncline_webhook_outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint INTEGER NOT NULL,
  url TEXT NOT NULL,
  stream TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  next_at BIGINT NOT NULL,
  last_error TEXT
);
CREATE INDEX syncline_webhook_outbox_streams ON syncline_webhook_outbox (endpoint, stream, id) WHERE status = 'pending';
CREATE INDEX syncline_webhook_outbox_status ON syncline_webhook_outbox (status, id);
CREATE TABLE syncline_webhook_claims (
  endpoint INTEGER NOT NULL,
  stream TEXT NOT NULL,
  claimed_by TEXT NOT NULL,
  claimed_until BIGINT NOT NULL,
  PRIMARY KEY (endpoint, stream)
);
`,
  },
  {
    // What the HTTP API shows an operator: documents listed by name in code point order whatever the
    // database's collation (GET /v1/docs), and the mutator call of each op (GET /v1/docs/{name}/ops).
    name: '005_doc_console',
    sql: `
CREATE INDEX IF NOT EXISTS syncline_doc_heads_names ON syncline_doc_heads (doc COLLATE "C");
ALTER TABLE syncline_doc_ops ADD COLUMN IF NOT EXISTS mutator TEXT;
ALTER TABLE syncline_doc_ops ADD COLUMN IF NOT EXISTS args TEXT;
ALTER TABLE syncline_doc_ops ADD COLUMN IF NOT EXISTS args_bytes BIGINT;
`,
  },
];

/** Arbitrary key of the advisory lock that serializes migrations of concurrently starting nodes. */
const MIGRATION_LOCK_KEY = 0x5359_4e43;

/**
 * Applies pending migrations in one transaction under an advisory lock, so
 * nodes starting at the same time do not race. Safe to run at every start.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS syncline_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM syncline_migrations')).rows.map((r) => r.name),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.name)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO syncline_migrations (name) VALUES ($1)', [m.name]);
      applied.push(m.name);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return applied;
}

/** How `openMigratedPool` connects. */
export interface PoolOptions {
  readonly url: string;
  readonly max: number;
  readonly connectTimeoutMs?: number | undefined;
  readonly onError?: ((err: unknown) => void) | undefined;
}

/** Opens a pool, runs pending migrations and returns it; closes it and throws a clear error when that fails. */
export async function openMigratedPool(options: PoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    ...(options.connectTimeoutMs === undefined ? {} : { connectionTimeoutMillis: options.connectTimeoutMs }),
    keepAlive: true,
  });
  pool.on('error', (err) => options.onError?.(err));
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL is not reachable or not usable: ${(err as Error).message}`, { cause: err });
  }
  return pool;
}
