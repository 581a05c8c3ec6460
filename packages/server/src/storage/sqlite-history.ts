import { randomBytes } from 'node:crypto';
import type { Publication } from '@syncline/protocol';
import type { HistoryRead, PublishInput, PublishOutcome, StreamTop } from '../broker/broker.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';
import { type KeyedChannel, KeyHashes, MAX_CACHED_KEYS } from './key-hashes.js';
import { type LoggedPublication, type LogMode, PublicationLog } from './publication-log.js';
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

/** Moves of logged publications into the database: at most this long after the first waiting one, ms. */
export const MOVE_AFTER_MS = 200;
/** ... or as soon as this many wait. */
export const MOVE_AT_COUNT = 512;
/** ... or as soon as their stored texts reach this many characters. */
export const MOVE_AT_CHARS = 1 << 20;

/** Limits and files of a `SqliteHistory`. */
export interface SqliteHistoryOptions {
  /** Idempotency key hashes held in memory over all channels (default `MAX_CACHED_KEYS`). */
  readonly maxCachedKeys?: number;
  /** Start of the key hash (`keyHash`); random by default, so that keys cannot be made to share hashes on purpose. */
  readonly hashBasis?: number;
  /**
   * The append log (`PublicationLog`): publications are written to it before
   * they are acknowledged and moved into the database in bulk. Without it
   * (an in-memory database) they wait in memory only.
   */
  readonly logFile?: string | undefined;
  /** How the log writes (`PublicationLog`): mapped into memory when the native addon is built (default), or `write` calls. */
  readonly logMode?: LogMode | undefined;
  /** Told when moving publications into the database failed (they stay logged and are moved again later). */
  readonly onMoveError?: ((err: unknown) => void) | undefined;
}

/** A publication appended to history (or counted, in a namespace that keeps none), as append listeners see it. */
export interface AppendedPublication {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly ts: number;
  readonly user: string | null;
  readonly data: unknown;
}

/**
 * Runs inside the transaction that moves logged publications into the
 * database, after their rows are written: what it writes to the same
 * database commits or rolls back with them, and what it throws rolls the
 * move back (the publications stay logged and are moved again later, so a
 * listener sees each at least once, also after a crash).
 */
export type AppendListener = (appended: readonly AppendedPublication[], now: number) => void;

/** A publication acknowledged (logged) and not yet moved into the database. */
interface Waiting extends LoggedPublication {
  /** The data as published (undefined when read back from the log: parsed from `text` if a listener needs it). */
  readonly data: unknown;
  /** Its channel's cached top (undefined when read back from the log). */
  readonly top: Top | undefined;
  /** Read back from the log after a restart: its row may already be stored. */
  readonly replayed: boolean;
  /** Its namespace's history size (0 when read back from the log: its channel is trimmed at its next publication). */
  readonly size: number;
}

function publicationOf(r: Row): Publication {
  return r.user === null
    ? { offset: r.offset, data: JSON.parse(r.data), ts: r.ts }
    : { offset: r.offset, data: JSON.parse(r.data), ts: r.ts, user: r.user };
}

/** The newest publication of `channel` with idempotency key `key` in `list`, kept in history or not, if any. */
function newestKeyed(list: readonly Waiting[], channel: string, key: string, kept: boolean): Waiting | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const w = list[i] as Waiting;
    if (w.key === key && w.kept === kept && w.channel === channel) return w;
  }
  return undefined;
}

/** A new random epoch string. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/**
 * Channel history in SQLite. Synchronous (better-sqlite3). Each batch of
 * publications (one tick of the broker) is written to the append log with
 * one `write` and acknowledged; the logged publications are moved into the
 * database in bulk (one transaction per `MOVE_AFTER_MS` or `MOVE_AT_COUNT`),
 * and a read of a channel's rows moves those waiting first when some are that
 * channel's, so reads see every acknowledged publication.
 */
export class SqliteHistory {
  readonly #db: SqliteDatabase;
  readonly #tops = new Map<string, Top>();
  readonly #keys: KeyHashes;
  readonly #stmts;
  readonly #appendListeners = new Set<AppendListener>();
  readonly #log: PublicationLog | undefined;
  readonly #onMoveError: ((err: unknown) => void) | undefined;
  /** Acknowledged publications not yet in the database, oldest first. */
  #waiting: Waiting[] = [];
  /** Characters of the waiting publications' texts. */
  #waitingChars = 0;
  /** Idempotency keys of waiting publications of namespaces without history (`channel\nkey` → offset, ts). */
  readonly #waitingKeys = new Map<string, { offset: number; ts: number }>();
  #moveTimer: NodeJS.Timeout | undefined;
  /** What the log held at start: publications a previous process acknowledged and did not move, and unreadable lines skipped. */
  readonly readBack: { readonly publications: number; readonly skipped: number } = { publications: 0, skipped: 0 };
  /** The move of `#waiting` in one transaction (made once: better-sqlite3 builds a wrapper per `transaction` call). */
  readonly #moveTx: (waiting: readonly Waiting[], now: number) => void;

  constructor(db: SqliteDatabase, options: SqliteHistoryOptions = {}) {
    this.#db = db;
    this.#keys = new KeyHashes(
      options.maxCachedKeys ?? MAX_CACHED_KEYS,
      options.hashBasis ?? randomBytes(4).readInt32LE(0),
    );
    this.#onMoveError = options.onMoveError;
    migrate(db, '001_history', MIGRATION);
    migrate(db, '002_publication_keys', KEYS_MIGRATION);
    migrate(db, '003_publication_minutes', MINUTES_MIGRATION);
    migrate(db, '004_publication_keys_in_memory', KEY_INDEX_MIGRATION);
    this.#moveTx = db.transaction((waiting: readonly Waiting[], now: number) => this.#moveRows(waiting, now));
    this.#stmts = {
      // A channel's stored top is the larger of its row's and its newest retained publication's.
      getChannel: db.prepare<[string], { epoch: string; top: number }>(
        'SELECT epoch, MAX(top, COALESCE((SELECT MAX(offset) FROM publications WHERE channel = name), 0)) AS top FROM channels WHERE name = ?',
      ),
      upsertChannel: db.prepare(
        'INSERT INTO channels (name, epoch, top, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET epoch = excluded.epoch, top = MAX(top, excluded.top), updated_at = excluded.updated_at',
      ),
      insert: db.prepare('INSERT INTO publications (channel, offset, data, user, key, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      // A publication read back from the log may have been moved before the process stopped.
      insertReplayed: db.prepare(
        'INSERT OR IGNORE INTO publications (channel, offset, data, user, key, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ),
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
    if (options.logFile !== undefined) {
      this.#log = new PublicationLog(options.logFile, options.logMode);
      // What a previous process acknowledged and did not move waits again, moved at the first
      // read or after `MOVE_AFTER_MS` (append listeners added meanwhile see it).
      const { records, skipped } = this.#log.read();
      this.readBack = { publications: records.length, skipped };
      for (const r of records) this.#wait({ ...r, data: undefined, top: undefined, replayed: true, size: 0 });
    }
  }

  /**
   * Adds a listener run inside every transaction moving publications into
   * the database with the new (not duplicate) ones; returns its removal.
   * Add it before the first append or read: publications read back from the
   * log at start are moved then.
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
      // A waiting publication may be the channel's newest: its stored top is read after the move.
      this.#flushFor(channel);
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
   * Appends a batch with one write to the log; outcomes in input order. With
   * `texts`, `texts[i]` is set to the JSON text stored for `inputs[i]` (left
   * unset for a duplicate or a namespace that keeps no history). Nothing of a
   * batch that throws is kept.
   */
  appendBatch(inputs: readonly PublishInput[], now: number, texts?: (string | undefined)[]): PublishOutcome[] {
    const added: Waiting[] = [];
    let out: PublishOutcome[];
    try {
      out = this.#appendRows(inputs, now, texts, added);
      if (this.#log !== undefined && added.length > 0) this.#log.append(added);
    } catch (err) {
      // Offsets and keys of the batch were taken in memory only: forget cached tops (and keys) so they are reread.
      this.#dropTops();
      throw err;
    }
    for (const w of added) this.#wait(w);
    return out;
  }

  /** The publications of one batch, offsets and keys taken, into `added`. */
  #appendRows(
    batch: readonly PublishInput[],
    now: number,
    texts: (string | undefined)[] | undefined,
    added: Waiting[],
  ): PublishOutcome[] {
    const out: PublishOutcome[] = [];
    // Tops of this batch's channels, held here: the cache may be cleared mid-batch.
    const touched = new Map<string, Top>();
    for (let i = 0; i < batch.length; i++) {
      const input = batch[i] as PublishInput;
      const t = touched.get(input.channel) ?? this.#entry(input.channel);
      const keep = input.history.size > 0;
      // The key's hash, with history (made once: looked up, then remembered).
      let hash: number | undefined;
      if (input.key !== undefined) {
        // The key window is the retained history (size and TTL); without history, the TTL.
        if (keep) hash = this.#keys.hash(input.key);
        const prior =
          hash !== undefined
            ? this.#keyed(input.channel, t, input.key, hash, input.history.size, added)
            : this.#keyOnly(input.channel, input.key, added);
        if (prior && prior.ts >= now - input.history.ttlMs) {
          out.push({ offset: prior.offset, epoch: t.epoch, duplicate: true });
          continue;
        }
      }
      t.offset += 1;
      let text: string | undefined;
      if (keep) {
        text = JSON.stringify(input.data ?? null);
        if (texts !== undefined) texts[i] = text;
        if (hash !== undefined) this.#keys.remember(t, hash, input.history.size);
      } else if (this.#appendListeners.size > 0) text = JSON.stringify(input.data ?? null);
      touched.set(input.channel, t);
      out.push({ offset: t.offset, epoch: t.epoch, duplicate: false });
      added.push({
        channel: input.channel,
        epoch: t.epoch,
        offset: t.offset,
        ts: now,
        user: input.user ?? null,
        key: input.key ?? null,
        kept: keep,
        text,
        data: input.data,
        top: t,
        replayed: false,
        size: input.history.size,
      });
    }
    return out;
  }

  /** Adds an acknowledged publication to those waiting, and moves them if enough wait. */
  #wait(w: Waiting): void {
    this.#waiting.push(w);
    if (w.text !== undefined) this.#waitingChars += w.text.length;
    if (!w.kept && w.key !== null) this.#waitingKeys.set(`${w.channel}\n${w.key}`, { offset: w.offset, ts: w.ts });
    if (this.#waiting.length >= MOVE_AT_COUNT || this.#waitingChars >= MOVE_AT_CHARS) this.#moveSoon(0);
    else this.#moveSoon(MOVE_AFTER_MS);
  }

  #moveSoon(ms: number): void {
    if (this.#moveTimer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#moveTimer);
    }
    // At once means at the end of this turn: the batch's acknowledgements and deliveries go out first.
    this.#moveTimer = setTimeout(() => {
      this.#moveTimer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.#onMoveError?.(err);
        this.#moveSoon(MOVE_AFTER_MS);
      }
    }, ms);
    this.#moveTimer.unref();
  }

  /**
   * Moves the waiting publications into the database in one transaction and
   * empties the log. Runs before every read of the database; throws if the
   * database refuses the move (the publications stay logged and waiting).
   */
  flush(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    try {
      this.#moveTx(waiting, Date.now());
    } catch (err) {
      // The minutes marked in the rolled-back transaction are marked again at the next move.
      for (const w of waiting) if (w.top !== undefined) w.top.minute = -1;
      throw err;
    }
    this.#waiting = [];
    this.#waitingChars = 0;
    this.#waitingKeys.clear();
    this.#log?.clear();
  }

  /**
   * Moves what waits before a read of `channel`'s rows, when some of it is
   * that channel's: a read of another channel sees the same rows either way
   * (a first publication to each of many channels would otherwise cost a
   * move each).
   */
  #flushFor(channel: string): void {
    for (const w of this.#waiting) {
      if (w.channel === channel) {
        this.flush();
        return;
      }
    }
  }

  /** The rows of the waiting publications, run as one transaction by `#moveTx`. */
  #moveRows(waiting: readonly Waiting[], now: number): void {
    // Only made when someone listens (webhooks' publication feed).
    const appended: AppendedPublication[] | undefined = this.#appendListeners.size > 0 ? [] : undefined;
    // Minutes marked for publications read back from the log (they have no cached top).
    let marked: Set<string> | undefined;
    // Newest offset of each channel without history, kept in its row.
    let bare: Map<string, { epoch: string; offset: number; ts: number }> | undefined;
    // Newest offset of each channel with history, to trim it by size.
    const trims = new Map<string, Waiting>();
    for (const w of waiting) {
      if (w.kept) {
        const minute = Math.floor(w.ts / MINUTE_MS);
        if (w.top === undefined) {
          marked ??= new Set();
          const mark = `${minute}\n${w.channel}`;
          if (!marked.has(mark)) {
            marked.add(mark);
            this.#stmts.markMinute.run(minute, w.channel);
          }
        } else if (w.top.minute !== minute) {
          this.#stmts.markMinute.run(minute, w.channel);
          w.top.minute = minute;
        }
        const stmt = w.replayed ? this.#stmts.insertReplayed : this.#stmts.insert;
        if (stmt.run(w.channel, w.offset, w.text, w.user, w.key, w.ts).changes === 0) continue;
        if (w.top !== undefined) trims.set(w.channel, w);
      } else {
        if (w.key !== null) this.#stmts.putKey.run(w.channel, w.key, w.offset, w.ts);
        bare ??= new Map();
        bare.set(w.channel, { epoch: w.epoch, offset: w.offset, ts: w.ts });
      }
      appended?.push({
        channel: w.channel,
        epoch: w.epoch,
        offset: w.offset,
        ts: w.ts,
        user: w.user,
        data: w.replayed ? (w.text === undefined ? null : JSON.parse(w.text)) : (w.data ?? null),
      });
    }
    // Without history, the channel's row holds its top; with it, the newest row does (it is never
    // trimmed by size, and the TTL trim moves it to the channel's row first).
    if (bare !== undefined)
      for (const [channel, b] of bare) this.#stmts.upsertChannel.run(channel, b.epoch, b.offset, b.ts);
    for (const [channel, { top: t, offset, size }] of trims) {
      if (t === undefined) continue;
      // Rows past the size go in chunks of an eighth of it: trimming the oldest row at every
      // publication wrote one more page (the channel's oldest) per publication.
      const cut = offset - size;
      if (cut > 0 && cut - t.cut >= Math.max(1, size >> 3)) {
        this.#stmts.trimSize.run(channel, cut);
        t.cut = cut;
      }
    }
    if (appended !== undefined && appended.length > 0)
      for (const listener of this.#appendListeners) listener(appended, now);
  }

  /** The newest publication of `channel` with `key` in a namespace without history, if any: waiting, then stored. */
  #keyOnly(channel: string, key: string, added: readonly Waiting[]): { offset: number; ts: number } | undefined {
    return (
      newestKeyed(added, channel, key, false) ??
      this.#waitingKeys.get(`${channel}\n${key}`) ??
      this.#stmts.keyOnly.get(channel, key)
    );
  }

  /**
   * The newest retained publication of `channel` with idempotency key
   * `key` (of hash `h`), if any. The channel's key hashes in memory (loaded from its rows
   * on first use) answer "not used" for almost every new key without reading
   * the database; a hash that is there is checked against its row, and when
   * that row is gone or holds another key (a collision), the channel's rows
   * are searched.
   */
  #keyed(
    channel: string,
    t: Top,
    key: string,
    h: number,
    size: number,
    added: readonly Waiting[],
  ): { offset: number; ts: number } | undefined {
    if (t.keys === undefined) {
      this.#flushFor(channel);
      this.#keys.load(t, this.#stmts.channelKeys.iterate(channel));
    }
    const offset = t.keys?.get(h);
    if (offset === undefined) return undefined;
    // Published earlier in this batch (not logged yet), or waiting to be moved, or stored.
    const found = newestKeyed(added, channel, key, true) ?? newestKeyed(this.#waiting, channel, key, true);
    if (found !== undefined) return found.offset > t.offset - size ? found : undefined;
    this.#flushFor(channel);
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
    this.#flushFor(channel);
    const t = this.top(channel);
    const minTs = now - history.ttlMs;
    const floor = t.offset - history.size;
    const rows = this.#stmts.read.all(channel, Math.max(since, floor), minTs, limit);
    const min = this.#stmts.minOffset.get(channel, floor, minTs)?.m ?? 0;
    return { epoch: t.epoch, offset: t.offset, minOffset: min, publications: rows.map(publicationOf) };
  }

  /** The newest publications below `before` (exclusive), within TTL, returned oldest first; `limit` 0: the position only. */
  readBefore(channel: string, before: number, limit: number, history: HistoryOptions, now: number): HistoryRead {
    this.#flushFor(channel);
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
    this.flush();
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

  /** Moves what waits into the database and closes the log (before the database is closed). */
  close(): void {
    clearTimeout(this.#moveTimer);
    this.#moveTimer = undefined;
    this.flush();
    this.#log?.close();
  }
}
