import { SynclineError } from '@syncline/protocol';

/** The presence limits a `presence.enter` can hit, as named in `details.limit` of `limit_exceeded`. */
export type PresenceLimitName = 'presenceEntriesPerUser' | 'maxMembers' | 'maxChannelsPerConnection' | 'maxStateBytes';

/**
 * Caps a `PresenceStore.enter` checks against the channel's whole set (every
 * node's entries), atomically with the enter itself.
 */
export interface PresenceEnterLimits {
  /** Most entries one user may hold in the channel (`limits.presenceEntriesPerUser`). */
  readonly maxPerUser: number;
  /** Most entries the channel may hold (namespace `presence.maxMembers`). */
  readonly maxEntries: number;
}

const WHAT: Record<PresenceLimitName, (value: number) => string> = {
  presenceEntriesPerUser: (v) => `A user may hold at most ${v} presence entries in one channel.`,
  maxMembers: (v) => `This channel's presence set is full (${v} entries).`,
  maxChannelsPerConnection: (v) => `A connection may be present in at most ${v} channels.`,
  maxStateBytes: (v) => `Presence state exceeds ${v} bytes.`,
};

/**
 * The `limit_exceeded` error of a presence limit, with
 * `details: { limit, value }`. Stores throw it from `enter` when a
 * `PresenceEnterLimits` cap refuses the entry.
 */
export function presenceLimitExceeded(limit: PresenceLimitName, value: number, message?: string): SynclineError {
  return new SynclineError('limit_exceeded', message ?? WHAT[limit](value), { details: { limit, value } });
}
