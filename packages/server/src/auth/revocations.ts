import { SynclineError } from '@syncline/protocol';
import { migrate, type SqliteDatabase } from '../storage/sqlite.js';
import type { Principal } from './token-verifier.js';

const MIGRATION = `
CREATE TABLE revocations (
  user TEXT PRIMARY KEY,
  before INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Per-user revocations: "tokens of this user issued before T are refused".
 * Kept in the embedded database so they survive a restart, and cached in
 * memory so the check on every connect and refresh costs a map lookup.
 * A token without `iat` counts as issued at time 0, so any revocation refuses it.
 */
export class RevocationStore {
  readonly #before = new Map<string, number>();
  readonly #stmts;

  constructor(db: SqliteDatabase) {
    migrate(db, 'revocations_v1', MIGRATION);
    this.#stmts = {
      upsert: db.prepare(
        'INSERT INTO revocations (user, before, created_at) VALUES (?, ?, ?) ON CONFLICT(user) DO UPDATE SET before = MAX(before, excluded.before), created_at = excluded.created_at',
      ),
      remove: db.prepare('DELETE FROM revocations WHERE user = ?'),
    };
    const rows = db.prepare<[], { user: string; before: number }>('SELECT user, before FROM revocations').all();
    for (const r of rows) this.#before.set(r.user, r.before);
  }

  /**
   * Refuses the user's tokens issued before `before` (ms since the epoch). A
   * later revocation with an earlier time never shortens an existing one.
   * Returns the time in force.
   */
  revoke(user: string, before: number): number {
    const at = Math.max(before, this.#before.get(user) ?? 0);
    this.#stmts.upsert.run(user, at, Date.now());
    this.#before.set(user, at);
    return at;
  }

  /** Lifts a user's revocation; returns whether there was one. */
  lift(user: string): boolean {
    const had = this.#before.delete(user);
    this.#stmts.remove.run(user);
    return had;
  }

  /** The revocation time of a user, if any. */
  revokedBefore(user: string): number | undefined {
    return this.#before.get(user);
  }

  /** True when the principal's token was issued before the user's revocation time. */
  isRevoked(principal: Principal): boolean {
    const before = this.#before.get(principal.user);
    return before !== undefined && principal.issuedAt < before;
  }

  /** Throws `revoked` when the principal's token is refused. */
  check(principal: Principal): void {
    if (this.isRevoked(principal)) {
      throw new SynclineError('revoked', 'Access was revoked; a token issued after the revocation is required.', {
        details: { revokedBefore: this.#before.get(principal.user) },
      });
    }
  }

  /** Number of users with a revocation. */
  get size(): number {
    return this.#before.size;
  }
}

/**
 * Default revocation time: the start of the next whole second. Token `iat`
 * has one-second resolution, so every token issued up to now (including this
 * second) is refused, and tokens issued from the next second on are accepted.
 */
export function defaultRevocationTime(now = Date.now()): number {
  return (Math.floor(now / 1000) + 1) * 1000;
}
