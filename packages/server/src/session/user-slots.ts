import type { Session } from './session.js';

/**
 * Connection slots of users on this node, counting sessions that passed the
 * admission check but are not connected yet (their `onConnect` hook may still
 * be running). Without this, concurrent connects of one user could all pass
 * `maxConnectionsPerUser` before any of them is counted.
 */
export class UserSlots {
  readonly #pending = new Map<string, Set<Session>>();
  readonly #userOf = new Map<Session, string>();

  /** Sessions of `user` admitted but not yet connected, other than `except`. */
  pending(user: string, except: Session): number {
    const set = this.#pending.get(user);
    if (!set) return 0;
    return set.size - (set.has(except) ? 1 : 0);
  }

  /** Holds a slot for `session` until it is connected or closed (no-op for a closed session). */
  reserve(user: string, session: Session): void {
    if (session.closed) return;
    let set = this.#pending.get(user);
    if (!set) {
      set = new Set();
      this.#pending.set(user, set);
    }
    set.add(session);
    this.#userOf.set(session, user);
  }

  /** Releases the slot held for `session`, if any. */
  release(session: Session): void {
    const user = this.#userOf.get(session);
    if (user === undefined) return;
    this.#userOf.delete(session);
    const set = this.#pending.get(user);
    set?.delete(session);
    if (set?.size === 0) this.#pending.delete(user);
  }
}
