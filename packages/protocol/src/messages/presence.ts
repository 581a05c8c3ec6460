import * as v from 'valibot';
import { Json, Name, RequestId } from './common.js';

/**
 * Id of one presence entry, chosen by the client and stable across its
 * reconnects (so a quick reconnect keeps the entry instead of leaving and
 * joining again). Scoped to the user: two users may use the same id.
 */
export const PresenceClientId = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9_\-.:]+$/));

/** Enter a channel's presence set with a small JSON state (needs the `presence` capability). */
export const PresenceEnterCommand = v.object({
  type: v.literal('presence.enter'),
  id: RequestId,
  channel: Name,
  clientId: PresenceClientId,
  state: v.optional(Json),
});

/** Replace this entry's state (enters first when not yet entered). Coalesced latest-wins by the server. */
export const PresenceUpdateCommand = v.object({
  type: v.literal('presence.update'),
  id: RequestId,
  channel: Name,
  clientId: PresenceClientId,
  state: v.optional(Json),
});

/** Leave a channel's presence set (no-op when not entered). */
export const PresenceLeaveCommand = v.object({
  type: v.literal('presence.leave'),
  id: RequestId,
  channel: Name,
  clientId: PresenceClientId,
});

/**
 * Watch a channel's presence set: the server pushes `presence.state` (the
 * whole set) then `presence.diff` for every change (needs `subscribe`).
 */
export const PresenceSubscribeCommand = v.object({
  type: v.literal('presence.subscribe'),
  id: RequestId,
  channel: Name,
});

/** Stop watching a channel's presence set. */
export const PresenceUnsubscribeCommand = v.object({
  type: v.literal('presence.unsubscribe'),
  id: RequestId,
  channel: Name,
});

/** Schemas of the presence commands, by `type`. */
export const PRESENCE_COMMANDS = {
  'presence.enter': PresenceEnterCommand,
  'presence.update': PresenceUpdateCommand,
  'presence.leave': PresenceLeaveCommand,
  'presence.subscribe': PresenceSubscribeCommand,
  'presence.unsubscribe': PresenceUnsubscribeCommand,
} as const;

/** One connection's entry in a channel's presence set. */
export interface PresenceEntry {
  readonly user: string;
  /** The entering client's id (one per connection and channel, stable across reconnects). */
  readonly clientId: string;
  /** The state given to `enter`/`update` (`null` when none). */
  readonly state: unknown;
  /** The `info` claim of the user's token (name, avatar), when it has one. */
  readonly info?: unknown;
  /** Server time the entry entered, ms since the epoch. */
  readonly enteredAt: number;
  /** Server time of the last state change, ms since the epoch. */
  readonly updatedAt: number;
}

/** A presence change. */
export type PresenceAction = 'join' | 'update' | 'leave';

/**
 * The whole presence set of a channel, pushed after `presence.subscribe` (and
 * again after a resubscribe, or on a live watch when the server's node may
 * have missed diffs: it then replaces the set). `seq` orders it against diffs:
 * a diff with a `seq` at or below the state's is already included in it.
 *
 * A set too large for one message is sent in parts, so it never overfills
 * the connection's send queue: every part carries the same `seq` and its
 * `part` number (0, 1, 2 …), every part but the last has `more: true`, and
 * the set is the concatenation of the parts' `entries`. A client applies the
 * set once the last part arrived; diffs arriving in between are buffered as
 * before a state. A part 0 starts a new set (an unfinished one is dropped).
 * A set sent in one message has neither field, as before parts existed.
 */
export interface PresenceStateMessage {
  readonly type: 'presence.state';
  readonly channel: string;
  readonly seq: number;
  readonly entries: readonly PresenceEntry[];
  /** Present (`true`) on every part of a split set but the last: more entries follow. */
  readonly more?: true;
  /** Number of this part of a split set, from 0; absent when the set is sent in one message. */
  readonly part?: number;
}

/** One change of a channel's presence set, in `seq` order. */
export interface PresenceDiffMessage {
  readonly type: 'presence.diff';
  readonly channel: string;
  readonly seq: number;
  readonly action: PresenceAction;
  readonly entry: PresenceEntry;
}

/**
 * The server ended presence on a channel for this connection (the refreshed
 * token no longer allows it): `what` says whether the watch (`subscription`)
 * or this connection's entry (`entry`) ended.
 */
export interface PresenceEndedMessage {
  readonly type: 'presence.ended';
  readonly channel: string;
  readonly what: 'subscription' | 'entry';
  readonly code: string;
  readonly message: string;
}

/** A message sent to every connection of one user (server `sendToUser` or the HTTP API). */
export interface UserMessage {
  readonly type: 'message';
  readonly data: unknown;
  /** Server time, ms since the epoch. */
  readonly ts: number;
}

/** Result of `presence.enter` and `presence.update`. */
export interface PresenceEnterResult {
  readonly seq: number;
}

/** Every presence-area server→client message. */
export type PresenceServerMessage = PresenceStateMessage | PresenceDiffMessage | PresenceEndedMessage | UserMessage;
