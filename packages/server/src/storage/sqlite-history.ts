import { randomBytes } from 'node:crypto';
import type { Publication } from '@syncline/protocol';
import type { HistoryRead, PublishInput, PublishOutcome, StreamTop } from '../broker/broker.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';
import { type KeyedChannel, KeyHashes, MAX_CACHED_KEYS } from './key-hashes.js';
import { migrate, type SqliteDatabase } from './sqlite.js';

const MIGRATION = `
CREATE TABLE channels (
  name TEXT PRIMARY KEY,
  epoch TEXT NOT NULL,
  top INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE publications (
  channel TEXT NOT NULL,
  offset INTEGER NOT NULL,
  data TEXT NOT NULL,
  user TEXT,
  key TEXT,
  ts INTEGER NOT NULL,
  PRIMARY KEY (channel, offset)
) WITHOUT ROWID;
CREATE UNIQUE INDEX publications_key ON publications (channel, key) WHERE key IS NOT NULL;
CREATE INDEX publications_ts ON publications (ts);
`;

/** Idempotency keys of namespaces that keep no history (their publications are not stored). */
const KEYS_MIGRATION = `
CREATE TABLE publication_keys (
  channel TEXT NOT NULL,
  key TEXT NOT NULL,
  offset INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
) WITHOUT ROWID;
CREATE INDEX publication_keys_ts ON publication_keys (ts);
`;

/**
 * The minutes in which each channel got publications, for the TTL trim
 * (which finds expired channels here instead of in an index of every
 * publication's time: that index cost one more page written per commit).
 */
const MINUTES_MIGRATION = `
CREATE TABLE publication_minutes (
  minute INTEGER NOT NULL,
  channel TEXT NOT NULL,
  PRIMARY KEY (minute, channel)
) WITHOUT ROWID;
INSERT OR IGNORE INTO publication_minutes (minute, channel) SELECT DISTINCT ts / 60000, channel FROM publications;
DROP INDEX publications_ts;
`;

/**
 * Idempotency keys of publications with history are found through the
 * hashes of the channel's keys held in memory (`Top.keys`), loaded from the
 * rows on a channel's first keyed publish: an index of every key cost one
 * more page written per publication.
 */
const KEY_INDEX_MIGRATION = `
DROP INDEX IF EXISTS publications_key;
`;

/** Length of a `publication_minutes` bucket, ms. */
const MINUTE_MS = 60_000;

interface Row {
  offset: number;
  data: string;
  user: string | null;
  ts: number;
}

/** A channel's epoch and last offset, as cached. */
interface Top extends KeyedChannel {
  epoch: string;
  offset: number;
  /** The last minute recorded in `publication_minutes` for this channel by this process (-1: none yet). */
  minute: number;
  /** Hashes of the idempotency keys of its retained publications (`KeyHashes`), loaded on its first keyed publish. */
  keys: Map<number, number> | undefined;
  /** Offset up to which this process trimmed the channel's rows by size (-Infinity: not yet). */
  cut: number;
}

/** Channel tops kept in memory; the cache starts over past this many channels. */
const MAX_CACHED_TOPS = 100_000;

/** Limits of a `SqliteHistory`. */
export interface SqliteHistoryOptions {
  /** Idempotency key hashes held in memory over all channels (default `MAX_CACHED_KEYS`). */
  readonly maxCachedKeys?: number;
  /** Start of the key hash (`keyHash`); random by default, so that keys cannot be made to share hashes on purpose. */
  readonly hashBasis?: number;
}

/** A publication appended to history (or counted, in a namespace that keeps none), as append listeners see it. */
export interface AppendedPublication {
  readonly input: PublishInput;
  readonly offset: number;
  readonly epoch: string;
}

/**
 * Runs inside the append's transaction, after the batch's rows are written:
 * what it writes to the same database commits or rolls back with them, and
 * what it throws rolls the whole batch back (its publishes fail with
 * `unavailable`).
 */
export type AppendListener = (appended: readonly AppendedPublication[], now: number) => void;

function publicationOf(r: Row): Publication {
  return r.user === null
    ? { offset: r.offset, data: JSON.parse(r.data), ts: r.ts }
    : { offset: r.offset, data: JSON.parse(r.data), ts: r.ts, user: r.user };
}

/** A new random epoch string. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/**
 * Channel history in SQLite. Synchronous (better-sqlite3); the broker batches
 * appends of one tick into one transaction.
 */
export class SqliteHistory {
  readonly #db: SqliteDatabase;
  readonly #tops = new Map<string, Top>();
  readonly #keys: KeyHashes;
  readonly #stmts;
  readonly #appendListeners = new Set<AppendListener>();
  /** `#appendRows` in one transaction (made once: better-sqlite3 builds a wrapper per `transaction` call). */
  readonly #appendTx: (
    batch: readonly PublishInput[],
    now: number,
    texts: (string | undefined)[] | undefined,
  ) => PublishOutcome[];

  constructor(db: SqliteDatabase, options: SqliteHistoryOptions = {}) {
    this.#db = db;
    this.#keys = new KeyHashes(
      options.maxCachedKeys ?? MAX_CACHED_KEYS,
      options.hashBasis ?? randomBytes(4).readInt32LE(0),
    );
    migrate(db, '001_history', MIGRATION);
    migrate(db, '002_publication_keys', KEYS_MIGRATION);
    migrate(db, '003_publication_minutes', MINUTES_MIGRATION);
    migrate(db, '004_publication_keys_in_memory', KEY_INDEX_MIGRATION);
    this.#appendTx = db.transaction(
      (batch: readonly PublishInput[], now: number, texts: (string | undefined)[] | undefined) =>
        this.#appendRows(batch, now, texts),
    );
    this.#stmts = {
      // A channel's stored top is the larger of its row's and its newest retained publication's.
      getChannel: db.prepare<[string], { epoch: string; top: number }>(
        'SELECT epoch, MAX(top, COALESCE((SELECT MAX(offset) FROM publications WHERE channel = name), 0)) AS top FROM channels WHERE name = ?',
      ),
      upsertChannel: db.prepare(
        'INSERT INTO channels (name, epoch, top, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET epoch = excluded.epoch, top = excluded.top, updated_at = excluded.updated_at',
      ),
      insert: db.prepare('INSERT INTO publications (channel, offset, data, user, key, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      // Oldest first, so that a hash maps to the newest publication with it.
      channelKeys: db.prepare<[string], { key: string; offset: number }>(
        'SELECT key, offset FROM publications WHERE channel = ? AND key IS NOT NULL ORDER BY offset',
      ),
      // Reads the channel's rows (no index of keys): only when a key's hash is shared or stale.
      byKey: db.prepare<[string, string, number], { offset: number; ts: number }>(
        'SELECT offset, ts FROM publications WHERE channel = ? AND key = ? AND offset > ? ORDER BY offset DESC LIMIT 1',
      ),
      keyAt: db.prepare<[string, number], { key: string | null; ts: number }>(
        'SELECT key, ts FROM publications WHERE channel = ? AND offset = ?',
      ),
      keyOnly: db.prepare<[string, string], { offset: number; ts: number }>(
        'SELECT offset, ts FROM publication_keys WHERE channel = ? AND key = ?',
      ),
      putKey: db.prepare(
        'INSERT INTO publication_keys (channel, key, offset, ts) VALUES (?, ?, ?, ?) ON CONFLICT(channel, key) DO UPDATE SET offset = excluded.offset, ts = excluded.ts',
      ),
      trimSize: db.prepare('DELETE FROM publications WHERE channel = ? AND offset <= ?'),
      // Reads see the last `size` offsets only: rows below them wait for the next size trim.
      read: db.prepare<[string, number, number, number], Row>(
        'SELECT offset, data, user, ts FROM publications WHERE channel = ? AND offset > ? AND ts >= ? ORDER BY offset LIMIT ?',
      ),
      readBefore: db.prepare<[string, number, number, number, number], Row>(
        'SELECT offset, data, user, ts FROM publications WHERE channel = ? AND offset < ? AND offset > ? AND ts >= ? ORDER BY offset DESC LIMIT ?',
      ),
      minOffset: db.prepare<[string, number, number], { m: number | null }>(
        'SELECT MIN(offset) AS m FROM publications WHERE channel = ? AND offset > ? AND ts >= ?',
      ),
      markMinute: db.prepare('INSERT OR IGNORE INTO publication_minutes (minute, channel) VALUES (?, ?)'),
      expiredChannels: db.prepare<[number, string, string], { channel: string }>(
        'SELECT DISTINCT channel FROM publication_minutes WHERE minute <= ? AND channel >= ? AND channel < ?',
      ),
      dropMinutes: db.prepare('DELETE FROM publication_minutes WHERE minute < ? AND channel >= ? AND channel < ?'),
      trimChannel: db.prepare('DELETE FROM publications WHERE channel = ? AND ts < ?'),
      // Before expired publications go, the channel's row takes its top (a channel may lose every row).
      keepTop: db.prepare(
        'UPDATE channels SET top = MAX(top, COALESCE((SELECT MAX(offset) FROM publications WHERE channel = ?), 0)) WHERE name = ?',
      ),
      trimKeys: db.prepare('DELETE FROM publication_keys WHERE channel >= ? AND channel < ? AND ts < ?'),
    };
  }

  /**
   * Adds a listener run inside every append transaction with the batch's new
   * (not duplicate) publications; returns its removal.
   */
  onAppend(listener: AppendListener): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /** Top of a channel, creating its epoch on first use. */
  top(channel: string): StreamTop {
    const t = this.#entry(channel);
    return { epoch: t.epoch, offset: t.offset };
  }

  /** The cached, mutable top of a channel, loaded (or created) on first use. */
  #entry(channel: string): Top {
    let t = this.#tops.get(channel);
    if (!t) {
      const row = this.#stmts.getChannel.get(channel);
      t = row
        ? { epoch: row.epoch, offset: row.top, minute: -1, keys: undefined, cut: Number.NEGATIVE_INFINITY }
        : { epoch: newEpoch(), offset: 0, minute: -1, keys: undefined, cut: Number.NEGATIVE_INFINITY };
      if (!row) this.#stmts.upsertChannel.run(channel, t.epoch, 0, Date.now());
      if (this.#tops.size >= MAX_CACHED_TOPS) this.#dropTops();
      this.#tops.set(channel, t);
    }
    return t;
  }

  /**
   * Appends a batch in one transaction; outcomes in input order. With
   * `texts`, `texts[i]` is set to the JSON text stored for `inputs[i]` (left
   * unset for a duplicate or a namespace that keeps no history).
   */
  appendBatch(inputs: readonly PublishInput[], now: number, texts?: (string | undefined)[]): PublishOutcome[] {
    try {
      return this.#appendTx(inputs, now, texts);
    } catch (err) {
      // The transaction rolled back: forget cached tops (and keys) so they are reread.
      this.#dropTops();
      throw err;
    }
  }

  /** The rows of one batch; run as one transaction by `#appendTx`. */
  #appendRows(
    batch: readonly PublishInput[],
    now: number,
    texts: (string | undefined)[] | undefined,
  ): PublishOutcome[] {
    const out: PublishOutcome[] = [];
    // Only made when someone listens (webhooks' publication feed).
    const appended: AppendedPublication[] | undefined = this.#appendListeners.size > 0 ? [] : undefined;
    // Tops of this batch's channels, held here: the cache may be cleared mid-batch.
    const touched = new Map<string, { t: Top; history: HistoryOptions }>();
    for (let i = 0; i < batch.length; i++) {
      const input = batch[i] as PublishInput;
      const t = touched.get(input.channel)?.t ?? this.#entry(input.channel);
      const keep = input.history.size > 0;
      // The key's hash, with history (made once: looked up, then remembered).
      let hash: number | undefined;
      if (input.key !== undefined) {
        // The key window is the retained history (size and TTL); without history, the TTL.
        if (keep) hash = this.#keys.hash(input.key);
        const prior =
          hash !== undefined
            ? this.#keyed(input.channel, t, input.key, hash, input.history.size)
            : this.#stmts.keyOnly.get(input.channel, input.key);
        if (prior && prior.ts >= now - input.history.ttlMs) {
          out.push({ offset: prior.offset, epoch: t.epoch, duplicate: true });
          continue;
        }
      }
      t.offset += 1;
      if (keep) {
        const minute = Math.floor(now / MINUTE_MS);
        if (t.minute !== minute) {
          this.#stmts.markMinute.run(minute, input.channel);
          t.minute = minute;
        }
        const text = JSON.stringify(input.data ?? null);
        if (texts !== undefined) texts[i] = text;
        this.#stmts.insert.run(input.channel, t.offset, text, input.user ?? null, input.key ?? null, now);
        if (hash !== undefined) this.#keys.remember(t, hash, input.history.size);
      } else if (input.key !== undefined) {
        this.#stmts.putKey.run(input.channel, input.key, t.offset, now);
      }
      touched.set(input.channel, { t, history: input.history });
      out.push({ offset: t.offset, epoch: t.epoch, duplicate: false });
      appended?.push({ input, offset: t.offset, epoch: t.epoch });
    }
    for (const [channel, { t, history }] of touched) {
      // With history, the newest publication's row holds the top (it is never trimmed by size,
      // and the TTL trim moves it to the channel's row first): one row written per publication.
      if (history.size === 0) this.#stmts.upsertChannel.run(channel, t.epoch, t.offset, now);
      else {
        // Rows past the size go in chunks of an eighth of it: trimming the oldest row at every
        // publication wrote one more page (the channel's oldest) per publication.
        const cut = t.offset - history.size;
        if (cut > 0 && cut - t.cut >= Math.max(1, history.size >> 3)) {
          this.#stmts.trimSize.run(channel, cut);
          t.cut = cut;
        }
      }
    }
    if (appended !== undefined && appended.length > 0)
      for (const listener of this.#appendListeners) listener(appended, now);
    return out;
  }

  /**
   * The newest retained publication of `channel` with idempotency key
   * `key` (of hash `h`), if any. The channel's key hashes in memory (loaded from its rows
   * on first use) answer "not used" for almost every new key without reading
   * the database; a hash that is there is checked against its row, and when
   * that row is gone or holds another key (a collision), the channel's rows
   * are searched.
   */
  #keyed(channel: string, t: Top, key: string, h: number, size: number): { offset: number; ts: number } | undefined {
    if (t.keys === undefined) this.#keys.load(t, this.#stmts.channelKeys.iterate(channel));
    const offset = t.keys?.get(h);
    if (offset === undefined) return undefined;
    const row = offset > t.offset - size ? this.#stmts.keyAt.get(channel, offset) : undefined;
    if (row?.key === key) return { offset, ts: row.ts };
    if (row === undefined) this.#keys.forget(t, h);
    return this.#stmts.byKey.get(channel, key, t.offset - size);
  }

  /** Idempotency key hashes held in memory now (over all channels). */
  get cachedKeys(): number {
    return this.#keys.size;
  }

  /** Forgets every cached top and key (they are reread from the database). */
  #dropTops(): void {
    this.#tops.clear();
    this.#keys.reset();
  }

  /** Publications after `since`, within TTL, oldest first. */
  read(channel: string, since: number, limit: number, history: HistoryOptions, now: number): HistoryRead {
    const t = this.top(channel);
    const minTs = now - history.ttlMs;
    const floor = t.offset - history.size;
    const rows = this.#stmts.read.all(channel, Math.max(since, floor), minTs, limit);
    const min = this.#stmts.minOffset.get(channel, floor, minTs)?.m ?? 0;
    return { epoch: t.epoch, offset: t.offset, minOffset: min, publications: rows.map(publicationOf) };
  }

  /** The newest publications below `before` (exclusive), within TTL, returned oldest first; `limit` 0: the position only. */
  readBefore(channel: string, before: number, limit: number, history: HistoryOptions, now: number): HistoryRead {
    const t = this.top(channel);
    const minTs = now - history.ttlMs;
    const floor = t.offset - history.size;
    const rows = limit > 0 ? this.#stmts.readBefore.all(channel, before, floor, minTs, limit).reverse() : [];
    const min = this.#stmts.minOffset.get(channel, floor, minTs)?.m ?? 0;
    return { epoch: t.epoch, offset: t.offset, minOffset: min, publications: rows.map(publicationOf) };
  }

  /** Drops publications and idempotency keys older than the TTL of their namespace. */
  trimExpired(namespace: string, ttlMs: number, now: number): number {
    const from = `${namespace}:`;
    const to = `${namespace};`;
    const cutoff = now - ttlMs;
    return this.#db.transaction(() => {
      let removed = 0;
      // Channels with publications in a minute that began before the cutoff.
      const channels = this.#stmts.expiredChannels.all(Math.floor((cutoff - 1) / MINUTE_MS), from, to);
      for (const { channel } of channels) {
        this.#stmts.keepTop.run(channel, channel);
        removed += this.#stmts.trimChannel.run(channel, cutoff).changes;
      }
      // Minutes that ended by the cutoff hold nothing any more.
      this.#stmts.dropMinutes.run(Math.floor(cutoff / MINUTE_MS), from, to);
      return removed + this.#stmts.trimKeys.run(from, to, cutoff).changes;
    })();
  }
}
