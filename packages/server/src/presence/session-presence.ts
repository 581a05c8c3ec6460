import type { Session } from '../session/session.js';

/** Per-session presence state (kept in `session.ext`). */
export interface SessionPresence {
  /** The entry this session holds in each channel: its `clientId`, by channel (one per channel). */
  readonly entries: Map<string, string>;
  /** Channels whose presence this session watches. */
  readonly watching: Set<string>;
}

/** Key of the presence state in `session.ext`. */
export const PRESENCE_EXT_KEY = 'presence';

/** The presence state of a session, if it has any (without creating it). */
export function existingSessionPresence(session: Session): SessionPresence | undefined {
  return session.ext.get(PRESENCE_EXT_KEY) as SessionPresence | undefined;
}

/** The presence state of a session, created on first use. */
export function sessionPresence(session: Session): SessionPresence {
  let sp = session.ext.get(PRESENCE_EXT_KEY) as SessionPresence | undefined;
  if (!sp) {
    sp = { entries: new Map(), watching: new Set() };
    session.ext.set(PRESENCE_EXT_KEY, sp);
  }
  return sp;
}

/** Key of an entry on this node. */
export function entryKey(channel: string, user: string, clientId: string): string {
  return `${channel}\u0000${user}\u0000${clientId}`;
}
