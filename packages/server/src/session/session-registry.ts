import type { Session } from './session.js';

const EMPTY: ReadonlySet<Session> = new Set();

/**
 * The sessions of a node: every open one (from accept to close), and the
 * connected ones grouped by user. A user with one connection, the common
 * case, is indexed by that session alone (no set per user).
 */
export class SessionRegistry {
  /** Every open session. */
  readonly all = new Set<Session>();
  readonly #byUser = new Map<string, Session | Set<Session>>();

  /** Number of open sessions. */
  get size(): number {
    return this.all.size;
  }

  /** Number of users with a connected session. */
  get userCount(): number {
    return this.#byUser.size;
  }

  /** Records an accepted session. */
  add(session: Session): void {
    this.all.add(session);
  }

  /** Records a session that completed `connect` under its user. */
  connected(session: Session): void {
    const user = session.user;
    const held = this.#byUser.get(user);
    if (held === undefined) this.#byUser.set(user, session);
    else if (held instanceof Set) held.add(session);
    else if (held !== session) this.#byUser.set(user, new Set([held, session]));
  }

  /** Forgets a closed session. */
  remove(session: Session): void {
    this.all.delete(session);
    if (!session.principal) return;
    const user = session.user;
    const held = this.#byUser.get(user);
    if (held === session) this.#byUser.delete(user);
    else if (held instanceof Set) {
      held.delete(session);
      if (held.size === 1) this.#byUser.set(user, held.values().next().value as Session);
      else if (held.size === 0) this.#byUser.delete(user);
    }
  }

  /** Number of connected sessions of a user. */
  countOf(user: string): number {
    const held = this.#byUser.get(user);
    if (held === undefined) return 0;
    return held instanceof Set ? held.size : 1;
  }

  /**
   * The connected users whose id starts with `prefix` and sorts after
   * `after` (all when empty), in id order, at most `limit`, with their
   * connection counts. Reads every connected user but sorts only candidates
   * below the current `limit`-th smallest (a few milliseconds at 100,000 users).
   */
  usersAfter(prefix: string, after: string, limit: number): Array<{ user: string; connections: number }> {
    if (limit <= 0) return [];
    let kept: string[] = [];
    let ceiling: string | undefined;
    for (const user of this.#byUser.keys()) {
      if (user <= after || !user.startsWith(prefix) || (ceiling !== undefined && user >= ceiling)) continue;
      kept.push(user);
      if (kept.length >= 2 * limit) {
        kept = kept.sort().slice(0, limit);
        ceiling = kept[limit - 1];
      }
    }
    return kept
      .sort()
      .slice(0, limit)
      .map((user) => ({ user, connections: this.countOf(user) }));
  }

  /** The open session with this id, if any (a scan of every session). */
  find(id: string): Session | undefined {
    for (const s of this.all) if (s.id === id) return s;
    return undefined;
  }

  /** Connected sessions of a user (a snapshot when the user has one). */
  sessionsOf(user: string): ReadonlySet<Session> {
    const held = this.#byUser.get(user);
    if (held === undefined) return EMPTY;
    return held instanceof Set ? held : new Set([held]);
  }
}
