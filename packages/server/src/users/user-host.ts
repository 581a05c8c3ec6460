import type { Session } from '../session/session.js';

/**
 * What user operations need from the node they run on: the connected
 * sessions of a user. The node's core provides it.
 */
export interface UserHost {
  /**
   * The connected sessions of `user` on this node (a live set: copy it before
   * closing sessions while iterating). Empty when the user has none.
   */
  sessionsOf(user: string): ReadonlySet<Session>;
}
