import type { Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';

/** Per-session presence state (kept in the `PRESENCE_SLOT` of the session). */
export interface SessionPresence {
  /** The entry this session holds in each channel: its `clientId`, by channel (one per channel). */
  readonly entries: Map<string, string>;
  /** Channels whose presence this session watches. */
  readonly watching: Set<string>;
}

/** The session slot of the presence state. */
export const PRESENCE_SLOT = defineSlot<SessionPresence>('presence', () => ({
  entries: new Map(),
  watching: new Set(),
}));

/** The presence state of a session, if it has any (without creating it). */
export function existingSessionPresence(session: Session): SessionPresence | undefined {
  return session.peek(PRESENCE_SLOT);
}

/** The presence state of a session, created on first use. */
export function sessionPresence(session: Session): SessionPresence {
  return session.slot(PRESENCE_SLOT);
}

/** Key of an entry on this node. */
export function entryKey(channel: string, user: string, clientId: string): string {
  return `${channel}\u0000${user}\u0000${clientId}`;
}
