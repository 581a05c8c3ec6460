import type { Statement } from 'better-sqlite3';
import { migrate, type SqliteDatabase } from '../storage/sqlite.js';
import {
  type DeliveryStatus,
  deliveryFromRow as fromRow,
  type OutboxDelivery,
  type OutboxEntry,
  type OutboxRow,
  type OutboxStats,
  streamKey,
  type WebhookOutbox,
} from './webhook-outbox.js';

const MIGRATION = `
CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint INTEGER NOT NULL,
  url TEXT NOT NULL,
  stream TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  last_error TEXT
);
CREATE INDEX webhook_outbox_streams ON webhook_outbox (endpoint, stream, id) WHERE status = 'pending';
CREATE INDEX webhook_outbox_status ON webhook_outbox (status, id);
`;

/** Most ids in one `IN (…)` statement. */
const IDS_PER_STATEMENT = 500;

/**
 * The embedded `WebhookOutbox`: a table of the node's SQLite database. Its
 * writes are synchronous, so `add` called inside a history append or a
 * document commit is part of that transaction.
 */
export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly #db: SqliteDatabase;
  readonly #maxEvents: number;
  readonly #urls: ReadonlyMap<number, string>;
  readonly #stmts;
  /** Statements over a list of ids, by their text (one per SQL and list length). */
  readonly #byIds = new Map<string, Statement<unknown[]>>();
  /** Deliveries held; counted again at every `prune`, kept up to date in between. */
  #size: number;

  constructor(db: SqliteDatabase, options: { maxEvents: number; urls: ReadonlyMap<number, string> }) {
    this.#db = db;
    this.#maxEvents = options.maxEvents;
    this.#urls = options.urls;
    migrate(db, 'webhooks-1-outbox', MIGRATION);
    this.#stmts = {
      insert: db.prepare(
        "INSERT INTO webhook_outbox (endpoint, url, stream, event, status, attempts, created_at, next_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
      ),
      heads: db.prepare<[number, number], OutboxRow>(
        `SELECT o.* FROM webhook_outbox o
         JOIN (SELECT MIN(id) AS id FROM webhook_outbox WHERE status = 'pending' GROUP BY endpoint, stream) h ON h.id = o.id
         WHERE o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?`,
      ),
      batch: db.prepare<[number, string, number], OutboxRow>(
        "SELECT * FROM webhook_outbox WHERE status = 'pending' AND endpoint = ? AND stream = ? ORDER BY id LIMIT ?",
      ),
      list: db.prepare<[DeliveryStatus, number, number], OutboxRow>(
        'SELECT * FROM webhook_outbox WHERE status = ? AND id > ? ORDER BY id LIMIT ?',
      ),
      get: db.prepare<[number], OutboxRow>('SELECT * FROM webhook_outbox WHERE id = ?'),
      retry: db.prepare(
        "UPDATE webhook_outbox SET status = 'pending', attempts = 0, created_at = ?, next_at = ? WHERE id = ?",
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_outbox'),
      stats: db.prepare<[], { status: DeliveryStatus; n: number; oldest: number | null }>(
        'SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_outbox GROUP BY status',
      ),
      pruneOld: db.prepare("DELETE FROM webhook_outbox WHERE status = 'failed' AND created_at < ?"),
      pruneOldest: db.prepare(
        "DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM webhook_outbox WHERE status = 'failed' ORDER BY id LIMIT ?)",
      ),
    };
    this.#size = this.#stmts.count.get()?.n ?? 0;
  }

  /** Synchronous, in a transaction of its own or the caller's (a history append, a document commit). */
  add(entries: readonly OutboxEntry[], now: number): number {
    return this.#db.transaction(() => {
      let dropped = 0;
      for (const { event, stream, endpoints } of entries) {
        if (endpoints.length === 0) continue;
        const json = JSON.stringify(event);
        for (const endpoint of endpoints) {
          if (this.#size >= this.#maxEvents) {
            dropped++;
            continue;
          }
          this.#stmts.insert.run(endpoint, this.#urls.get(endpoint) ?? '', stream, json, now, now);
          this.#size++;
        }
      }
      return dropped;
    })();
  }

  async heads(now: number, limit: number, skip: ReadonlySet<string>): Promise<OutboxDelivery[]> {
    const rows = this.#stmts.heads.all(now, limit + skip.size);
    const out: OutboxDelivery[] = [];
    for (const r of rows) {
      if (skip.has(streamKey(r.endpoint, r.stream))) continue;
      out.push(fromRow(r));
      if (out.length >= limit) break;
    }
    return out;
  }

  async batch(endpoint: number, stream: string, limit: number): Promise<OutboxDelivery[]> {
    return this.#stmts.batch.all(endpoint, stream, limit).map(fromRow);
  }

  #update(sql: string, ids: readonly number[], params: readonly (string | number)[]): void {
    this.#db.transaction(() => {
      for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
        const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
        const text = `${sql} WHERE id IN (${chunk.map(() => '?').join(',')})`;
        let stmt = this.#byIds.get(text);
        if (!stmt) {
          if (this.#byIds.size >= 64) this.#byIds.clear();
          stmt = this.#db.prepare<unknown[]>(text);
          this.#byIds.set(text, stmt);
        }
        const changes = stmt.run(...params, ...chunk).changes;
        if (sql.startsWith('DELETE')) this.#size -= changes;
      }
    })();
  }

  async delivered(ids: readonly number[]): Promise<void> {
    this.#update('DELETE FROM webhook_outbox', ids, []);
  }

  async retryLater(ids: readonly number[], nextAttemptAt: number, error: string): Promise<void> {
    this.#update('UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ?, last_error = ?', ids, [
      nextAttemptAt,
      error,
    ]);
  }

  async fail(ids: readonly number[], error: string, now: number): Promise<void> {
    this.#update(
      "UPDATE webhook_outbox SET status = 'failed', attempts = attempts + 1, next_at = ?, last_error = ?",
      ids,
      [now, error],
    );
  }

  async list(status: DeliveryStatus, after: number, limit: number): Promise<OutboxDelivery[]> {
    return this.#stmts.list.all(status, after, limit).map(fromRow);
  }

  async retry(id: number, now: number): Promise<OutboxDelivery | undefined> {
    if (this.#stmts.retry.run(now, now, id).changes === 0) return undefined;
    const row = this.#stmts.get.get(id);
    return row && fromRow(row);
  }

  async prune(before: number, maxEvents: number): Promise<number> {
    let removed = this.#stmts.pruneOld.run(before).changes;
    this.#size = this.#stmts.count.get()?.n ?? 0;
    // Over the bound: make room for new events by dropping the oldest failed ones (a tenth of the bound).
    if (this.#size >= maxEvents) {
      removed += this.#stmts.pruneOldest.run(this.#size - maxEvents + Math.ceil(maxEvents / 10)).changes;
      this.#size = this.#stmts.count.get()?.n ?? 0;
    }
    return removed;
  }

  async stats(): Promise<OutboxStats> {
    let pending = 0;
    let failed = 0;
    let oldestPendingAt: number | undefined;
    for (const r of this.#stmts.stats.all()) {
      if (r.status === 'pending') {
        pending = r.n;
        oldestPendingAt = r.oldest ?? undefined;
      } else failed = r.n;
    }
    return { pending, failed, oldestPendingAt };
  }

  async close(): Promise<void> {
    // The database belongs to the server; nothing of ours to release.
  }
}
