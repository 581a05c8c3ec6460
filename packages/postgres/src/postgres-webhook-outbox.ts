import { randomBytes } from 'node:crypto';
import {
  type DeliveryStatus,
  deliveryFromRow,
  type OutboxDelivery,
  type OutboxEntry,
  type OutboxRow,
  type OutboxStats,
  type SqlTransaction,
  type WebhookOutbox,
  type WebhookOutboxSettings,
} from '@syncline/server';
import type pg from 'pg';
import { openMigratedPool } from './migrations.js';
import { OUTBOX_SQL } from './postgres-webhook-sql.js';

/** Options of `PostgresWebhookOutbox.connect`: the database and the node's settings. */
export interface PostgresWebhookOutboxOptions extends WebhookOutboxSettings {
  /** `postgres://user:password@host:5432/database` */
  readonly url: string;
  /** Most pooled connections of this outbox (default 4). */
  readonly maxConnections?: number;
  /** Receives pool-level failures (a connection dropped while idle). */
  readonly onError?: (err: unknown) => void;
}

/** Options of an outbox on a pool it is handed (the document store's). */
export interface PostgresWebhookOutboxSettings extends WebhookOutboxSettings {
  /** How old the count of deliveries that the bound checks may be, ms (default `OUTBOX_COUNT_MAX_AGE_MS`). */
  readonly countMaxAgeMs?: number;
}

/** Default age of the outbox count a node checks the bound against: the bound may be passed by what other nodes add within it. */
export const OUTBOX_COUNT_MAX_AGE_MS = 1_000;

type Queryable = Pick<pg.Pool, 'query'> | SqlTransaction;

interface Waiting {
  readonly entries: readonly OutboxEntry[];
  readonly now: number;
  readonly resolve: (dropped: number) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The `WebhookOutbox` of a cluster, on PostgreSQL: every node adds to one
 * table and delivers from it. A node claims a stream (receiver and channel,
 * document or user) for its lease before sending it (`FOR UPDATE SKIP LOCKED`
 * on the stream's head, then an upsert that takes only a free or lapsed
 * claim), extends the claim at each batch, and its `delivered`, `retryLater`
 * and `fail` apply only while the claim names it. A node that dies leaves its
 * claims to lapse; the others then take its streams over from their oldest
 * pending delivery. Leases are timed by the database's clock.
 */
export class PostgresWebhookOutbox implements WebhookOutbox {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #settings: PostgresWebhookOutboxSettings;
  /** Owner name of this node's claims: its id plus a per-process suffix, so a restarted node never inherits live claims. */
  readonly #owner: string;
  readonly #countMaxAgeMs: number;
  #count = 0;
  #countAt = Number.NEGATIVE_INFINITY;
  readonly #waiting: Waiting[] = [];
  #flushing = false;
  #closed = false;

  /** An outbox on `pool` (the document store's, so that commits can write in their transaction). */
  constructor(pool: pg.Pool, settings: PostgresWebhookOutboxSettings, ownsPool = false) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#settings = settings;
    this.#owner = `${settings.nodeId}/${randomBytes(6).toString('hex')}`;
    this.#countMaxAgeMs = settings.countMaxAgeMs ?? OUTBOX_COUNT_MAX_AGE_MS;
  }

  /** Connects a pool of its own, runs pending migrations and returns the outbox. */
  static async connect(
    options: PostgresWebhookOutboxOptions & PostgresWebhookOutboxSettings,
  ): Promise<PostgresWebhookOutbox> {
    const pool = await openMigratedPool({
      url: options.url,
      max: options.maxConnections ?? 4,
      onError: options.onError,
    });
    return new PostgresWebhookOutbox(pool, options, true);
  }

  /** In `tx`, at once; otherwise queued, the node's adds written in order, several per statement. */
  add(entries: readonly OutboxEntry[], now: number, tx?: SqlTransaction): Promise<number> {
    if (tx !== undefined) return this.#write(tx, [{ entries, now }]).then(([dropped]) => dropped ?? 0);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ entries, now, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#waiting.length > 0) {
      const group = this.#waiting.splice(0);
      try {
        const dropped = await this.#write(this.#pool, group);
        for (const [i, w] of group.entries()) w.resolve(dropped[i] ?? 0);
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.#flushing = false;
  }

  /** Inserts the deliveries of each group of entries in one statement; resolves with the drops of each. */
  async #write(q: Queryable, groups: readonly Pick<Waiting, 'entries' | 'now'>[]): Promise<number[]> {
    let room = this.#settings.maxEvents - (await this.#counted(q));
    const cols: [number[], string[], string[], string[], number[]] = [[], [], [], [], []];
    const dropped = groups.map(({ entries, now }) => {
      let n = 0;
      for (const { event, stream, endpoints } of entries) {
        const json = JSON.stringify(event);
        for (const endpoint of endpoints) {
          if (room <= 0) {
            n++;
            continue;
          }
          room--;
          cols[0].push(endpoint);
          cols[1].push(this.#settings.urls.get(endpoint) ?? '');
          cols[2].push(stream);
          cols[3].push(json);
          cols[4].push(now);
        }
      }
      return n;
    });
    if (cols[0].length > 0) {
      await q.query(OUTBOX_SQL.insert, cols);
      this.#count += cols[0].length;
    }
    return dropped;
  }

  /** Deliveries held over every node, read again once older than `countMaxAgeMs`. */
  async #counted(q: Queryable): Promise<number> {
    if (Date.now() - this.#countAt >= this.#countMaxAgeMs) await this.#recount(q);
    return this.#count;
  }

  async #recount(q: Queryable): Promise<void> {
    const r = await q.query(OUTBOX_SQL.count);
    this.#count = Number((r.rows[0] as { n: string } | undefined)?.n ?? 0);
    this.#countAt = Date.now();
  }

  async #rows(sql: string, values: unknown[]): Promise<OutboxDelivery[]> {
    return (await this.#pool.query<OutboxRow>(sql, values)).rows.map(deliveryFromRow);
  }

  async heads(now: number, limit: number, skip: ReadonlySet<string>): Promise<OutboxDelivery[]> {
    const endpoints: number[] = [];
    const streams: string[] = [];
    for (const key of skip) {
      const i = key.indexOf(' ');
      endpoints.push(Number(key.slice(0, i)));
      streams.push(key.slice(i + 1));
    }
    return this.#rows(OUTBOX_SQL.heads, [now, this.#owner, limit, endpoints, streams, this.#settings.leaseMs]);
  }

  async batch(endpoint: number, stream: string, limit: number): Promise<OutboxDelivery[]> {
    return this.#rows(OUTBOX_SQL.batch, [endpoint, this.#owner, stream, limit, this.#settings.leaseMs]);
  }

  async delivered(ids: readonly number[]): Promise<void> {
    const r = await this.#pool.query<{ n: string }>(OUTBOX_SQL.delivered, [ids, this.#owner]);
    this.#count -= Number(r.rows[0]?.n ?? 0);
  }

  async retryLater(ids: readonly number[], nextAttemptAt: number, error: string): Promise<void> {
    await this.#pool.query(OUTBOX_SQL.retryLater, [ids, this.#owner, nextAttemptAt, error]);
  }

  async fail(ids: readonly number[], error: string, now: number): Promise<void> {
    await this.#pool.query(OUTBOX_SQL.fail, [ids, this.#owner, now, error]);
  }

  async list(status: DeliveryStatus, after: number, limit: number): Promise<OutboxDelivery[]> {
    return this.#rows(OUTBOX_SQL.list, [status, after, limit]);
  }

  async retry(id: number, now: number): Promise<OutboxDelivery | undefined> {
    return (await this.#rows(OUTBOX_SQL.retry, [now, id]))[0];
  }

  async prune(before: number, maxEvents: number): Promise<number> {
    let removed = (await this.#pool.query(OUTBOX_SQL.pruneOld, [before])).rowCount ?? 0;
    await this.#recount(this.#pool);
    // Over the bound: make room for new events by dropping the oldest failed ones (a tenth of the bound).
    if (this.#count >= maxEvents) {
      const n = this.#count - maxEvents + Math.ceil(maxEvents / 10);
      removed += (await this.#pool.query(OUTBOX_SQL.pruneOldest, [n])).rowCount ?? 0;
      await this.#recount(this.#pool);
    }
    // Claims lapsed for a whole lease name no live sender.
    await this.#pool.query(OUTBOX_SQL.pruneClaims, [this.#settings.leaseMs]);
    return removed;
  }

  async stats(): Promise<OutboxStats> {
    let pending = 0;
    let failed = 0;
    let oldestPendingAt: number | undefined;
    const r = await this.#pool.query<{ status: DeliveryStatus; n: string; oldest: string | null }>(OUTBOX_SQL.stats);
    for (const row of r.rows) {
      if (row.status === 'pending') {
        pending = Number(row.n);
        oldestPendingAt = row.oldest === null ? undefined : Number(row.oldest);
      } else failed = Number(row.n);
    }
    return { pending, failed, oldestPendingAt };
  }

  /** Gives up this node's claims (other nodes take its streams at once) and ends its own pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Best effort: a claim not given up lapses after its lease.
    await this.#pool.query(OUTBOX_SQL.release, [this.#owner]).catch(() => undefined);
    if (this.#ownsPool) await this.#pool.end();
  }
}
