import type { Session } from './session.js';

/**
 * Connection slots of users on this node, counting sessions that passed the
 * admission check but are not connected yet (their `onConnect` hook may still
 * be running). Without this, concurrent connects of one user could all pass
 * `maxConnectionsPerUser` before any of them is counted. Each user's pending
 * sessions are a count; which user a session holds a slot for says whether
 * it is one of them.
 */
export class UserSlots {
  readonly #pending = new Map<string, number>();
  readonly #userOf = new Map<Session, string>();

  /** Sessions of `user` admitted but not yet connected, other than `except`. */
  pending(user: string, except: Session): number {
    return (this.#pending.get(user) ?? 0) - (this.#userOf.get(except) === user ? 1 : 0);
  }

  /** Holds a slot for `session` until it is connected or closed (no-op for a closed session). */
  reserve(user: string, session: Session): void {
    if (session.closed || this.#userOf.get(session) === user) return;
    this.release(session);
    this.#userOf.set(session, user);
    this.#pending.set(user, (this.#pending.get(user) ?? 0) + 1);
  }

  /** Releases the slot held for `session`, if any. */
  release(session: Session): void {
    const user = this.#userOf.get(session);
    if (user === undefined) return;
    this.#userOf.delete(session);
    const left = (this.#pending.get(user) ?? 1) - 1;
    if (left === 0) this.#pending.delete(user);
    else this.#pending.set(user, left);
  }
}
