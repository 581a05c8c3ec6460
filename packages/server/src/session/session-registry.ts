import type { Session } from './session.js';

const EMPTY: ReadonlySet<Session> = new Set();

/**
 * The sessions of a node: every open one (from accept to close), and the
 * connected ones grouped by user.
 */
export class SessionRegistry {
  /** Every open session. */
  readonly all = new Set<Session>();
  readonly #byUser = new Map<string, Set<Session>>();

  /** Number of open sessions. */
  get size(): number {
    return this.all.size;
  }

  /** Records an accepted session. */
  add(session: Session): void {
    this.all.add(session);
  }

  /** Records a session that completed `connect` under its user. */
  connected(session: Session): void {
    let set = this.#byUser.get(session.user);
    if (!set) {
      set = new Set();
      this.#byUser.set(session.user, set);
    }
    set.add(session);
  }

  /** Forgets a closed session. */
  remove(session: Session): void {
    this.all.delete(session);
    if (!session.principal) return;
    const set = this.#byUser.get(session.user);
    set?.delete(session);
    if (set?.size === 0) this.#byUser.delete(session.user);
  }

  /** Connected sessions of a user. */
  sessionsOf(user: string): ReadonlySet<Session> {
    return this.#byUser.get(user) ?? EMPTY;
  }
}
