import type { PresenceAction, PresenceEntry } from '@syncline/protocol';
import type { PresenceEnterLimits } from './presence-limits.js';

/** Who owns an entry: the node and the session that entered it. */
export interface PresenceOwner {
  readonly node: string;
  readonly session: string;
}

/** An entry as the store keeps it: the public entry plus its owner. */
export interface StoredPresenceEntry extends PresenceEntry {
  readonly owner: PresenceOwner;
}

/** One change of a channel's presence set, as fanned out to watchers. */
export interface PresenceChange {
  readonly channel: string;
  /** The channel's sequence number after this change (1, 2, 3 …). */
  readonly seq: number;
  readonly action: PresenceAction;
  readonly entry: PresenceEntry;
}

/** A channel's whole presence set at one sequence number. */
export interface PresenceSnapshot {
  readonly seq: number;
  readonly entries: readonly PresenceEntry[];
}

/**
 * Where presence entries live: in memory for the embedded server, in a shared
 * store (Redis) for a cluster. An entry is keyed by `(channel, user, clientId)`;
 * a user with several connections has several entries in one channel (the
 * server keeps one per connection and channel).
 *
 * Contract:
 * - Every method that changes a channel's set gives the change a new `seq`,
 *   strictly greater than every earlier `seq` of that channel for the life of
 *   the store (not necessarily contiguous: a store may use one counter for all
 *   channels); a call that changes nothing returns `undefined`.
 * - `list` returns the set and the `seq` it reflects, atomically: every change
 *   with a `seq` at or below it is included, none above.
 * - Changes of one key are applied in call order. Concurrent calls on
 *   different keys may interleave, each still getting a distinct `seq`.
 * - `enter` on an existing key replaces its state and its owner (a client
 *   that reconnected, possibly to another node, takes its entry over) and
 *   reports `update`; on a new key it reports `join`.
 * - `enter` with `limits` on a new key first checks, atomically with the
 *   enter (no two concurrent calls, on any node, both take the last slot):
 *   the channel holds fewer than `maxEntries` entries, else it throws
 *   `limit_exceeded` with `details.limit` `'maxMembers'`; the user holds
 *   fewer than `maxPerUser` entries in the channel, else `limit_exceeded`
 *   with `'presenceEntriesPerUser'` (see `presenceLimitExceeded`). A take-over
 *   of an existing key is never refused and counts once.
 * - `leave` with `onlyOwner` removes the entry only while that session still
 *   owns it (a grace-period leave must not remove an entry taken over since).
 * - Entries are owned by a node. A node calls `heartbeat` periodically; the
 *   entries of a node that has not heartbeated for `nodeTtlMs` are removed by
 *   `expire` (called by any live node), which returns one `leave` per entry.
 * - A rejected call changed nothing (`unavailable` when the backend is down).
 */
export interface PresenceStore {
  /** Adds (`join`) or takes over and replaces (`update`) an entry; a new entry past `limits` is refused. */
  enter(
    channel: string,
    entry: PresenceEntry,
    owner: PresenceOwner,
    limits?: PresenceEnterLimits,
  ): Promise<PresenceChange>;
  /** Replaces an entry's state (`update`); undefined when the entry does not exist. */
  update(
    channel: string,
    user: string,
    clientId: string,
    state: unknown,
    now: number,
  ): Promise<PresenceChange | undefined>;
  /** Removes an entry (`leave`); undefined when it does not exist (or is owned by another session with `onlyOwner`). */
  leave(
    channel: string,
    user: string,
    clientId: string,
    onlyOwner?: PresenceOwner,
  ): Promise<PresenceChange | undefined>;
  /** The channel's whole set. */
  list(channel: string): Promise<PresenceSnapshot>;
  /** Channels with at least one entry, with their entry counts. */
  channels(): Promise<ReadonlyMap<string, number>>;
  /** Marks a node alive at `now`. */
  heartbeat(node: string, now: number): Promise<void>;
  /** Removes the entries of nodes silent for longer than `nodeTtlMs`; returns the leaves. */
  expire(now: number, nodeTtlMs: number): Promise<PresenceChange[]>;
  /** Releases resources. */
  close(): Promise<void>;
}

/**
 * Carries presence changes from the node that made them to every node with
 * watchers of the channel. The embedded server delivers in process; a cluster
 * adapter carries them over its broker.
 *
 * Contract: changes of one channel are delivered to a node in `seq` order, at
 * most once. A fanout that can lose changes (a cluster node whose connection
 * to the broker dropped) calls its `onResync` listeners once delivery is back
 * (its subscriptions active again); the node then re-reads `list` for every
 * channel it has watchers of and sends each watcher the fresh list, so no
 * watcher keeps a stale set. A fanout that never loses changes (in process)
 * need not implement `onResync`.
 */
export interface PresenceFanout {
  /** Hands a change to every node watching its channel (this one included). */
  publish(change: PresenceChange): void;
  /** Starts delivering a channel's changes to this node. */
  subscribe(channel: string, listener: (change: PresenceChange) => void): Promise<void>;
  /** Stops delivering a channel's changes to this node. */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Calls `listener` each time delivery resumes after changes may have been
   * lost; returns the remover. Optional: absent means changes are never lost.
   */
  onResync?(listener: () => void): () => void;
}
