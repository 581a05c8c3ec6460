import { migrate, type SqliteDatabase } from '../storage/sqlite.js';

/**
 * Durable per-user revocations: "tokens of this user issued before T (ms since
 * the epoch) are refused". Nodes never query it on the hot path: each keeps
 * the revocations in memory (`RevocationCache`) and reads them again every
 * `refreshMs`, and the operations themselves reach the other nodes over the
 * node bus at once.
 *
 * Contract:
 * - `revoke` stores the later of `before` and any time already stored for the
 *   user (a revocation never moves back), atomically with respect to other
 *   nodes' `revoke` and `lift`, and resolves with the time in force. It
 *   resolves only once the revocation is durable in the store.
 * - `lift` removes the user's revocation and resolves whether there was one.
 * - `all` returns every revocation in force. A store shared by several nodes
 *   returns what any node stored; a read that fails rejects (the caller keeps
 *   its cache). `known` is what the caller holds in force; a store that finds
 *   it lost its data (e.g. Redis restarted without persistence) writes those
 *   back first, so a data loss does not lift revocations.
 * - A failed call rejects with a `SynclineError` (`unavailable` or `timeout`)
 *   and, for `unavailable`, changed nothing.
 */
export interface RevocationStore {
  all(known: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>>;
  revoke(user: string, before: number): Promise<number>;
  lift(user: string): Promise<boolean>;
  /**
   * How often a node re-reads `all()` (ms) to pick up changes it missed on the
   * node bus; undefined for a store only this node writes.
   */
  readonly refreshMs?: number | undefined;
  /** Releases the store's resources (not a connection it was given). */
  close(): Promise<void>;
}

const MIGRATION = `
CREATE TABLE revocations (
  user TEXT PRIMARY KEY,
  before INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Revocations in the node's embedded SQLite database (the default): they
 * survive a restart of the node, and only this node sees them.
 */
export class SqliteRevocationStore implements RevocationStore {
  readonly #stmts;

  constructor(db: SqliteDatabase) {
    migrate(db, 'revocations_v1', MIGRATION);
    this.#stmts = {
      upsert: db.prepare(
        'INSERT INTO revocations (user, before, created_at) VALUES (?, ?, ?) ON CONFLICT(user) DO UPDATE SET before = MAX(before, excluded.before), created_at = excluded.created_at',
      ),
      get: db.prepare<[string], { before: number }>('SELECT before FROM revocations WHERE user = ?'),
      remove: db.prepare('DELETE FROM revocations WHERE user = ?'),
      all: db.prepare<[], { user: string; before: number }>('SELECT user, before FROM revocations'),
    };
  }

  /** Every revocation, read synchronously (to seed a node's cache before it serves). */
  snapshot(): Map<string, number> {
    return new Map(this.#stmts.all.all().map((r) => [r.user, r.before]));
  }

  async all(_known: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>> {
    return this.snapshot();
  }

  async revoke(user: string, before: number): Promise<number> {
    this.#stmts.upsert.run(user, before, Date.now());
    return this.#stmts.get.get(user)?.before ?? before;
  }

  async lift(user: string): Promise<boolean> {
    return this.#stmts.remove.run(user).changes > 0;
  }

  async close(): Promise<void> {}
}

/**
 * Default revocation time: the start of the next whole second. Token `iat`
 * has one-second resolution, so every token issued up to now (including this
 * second) is refused, and tokens issued from the next second on are accepted.
 */
export function defaultRevocationTime(now = Date.now()): number {
  return (Math.floor(now / 1000) + 1) * 1000;
}
