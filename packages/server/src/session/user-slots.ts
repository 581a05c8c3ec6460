import type { Session } from './session.js';

/**
 * Connection slots of users on this node, counting sessions that passed the
 * admission check but are not connected yet (their `onConnect` hook may still
 * be running). Without this, concurrent connects of one user could all pass
 * `maxConnectionsPerUser` before any of them is counted. A user with one
 * pending session, the common case, holds that session alone (no set).
 */
export class UserSlots {
  readonly #pending = new Map<string, Session | Set<Session>>();
  readonly #userOf = new Map<Session, string>();

  /** Sessions of `user` admitted but not yet connected, other than `except`. */
  pending(user: string, except: Session): number {
    const held = this.#pending.get(user);
    if (held === undefined) return 0;
    if (!(held instanceof Set)) return held === except ? 0 : 1;
    return held.size - (held.has(except) ? 1 : 0);
  }

  /** Holds a slot for `session` until it is connected or closed (no-op for a closed session). */
  reserve(user: string, session: Session): void {
    if (session.closed) return;
    const held = this.#pending.get(user);
    if (held === undefined) this.#pending.set(user, session);
    else if (held instanceof Set) held.add(session);
    else if (held !== session) this.#pending.set(user, new Set([held, session]));
    this.#userOf.set(session, user);
  }

  /** Releases the slot held for `session`, if any. */
  release(session: Session): void {
    const user = this.#userOf.get(session);
    if (user === undefined) return;
    this.#userOf.delete(session);
    const held = this.#pending.get(user);
    if (held === session) this.#pending.delete(user);
    else if (held instanceof Set) {
      held.delete(session);
      if (held.size === 1) this.#pending.set(user, held.values().next().value as Session);
      else if (held.size === 0) this.#pending.delete(user);
    }
  }
}
