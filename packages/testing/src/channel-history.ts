/**
 * The recorded history of channel traffic that {@link checkChannelHistory}
 * reads. Plain JSON values only, so a failing chaos run can write it to a
 * file and the checker can be rerun on it.
 *
 * @module
 */

/** A position in a channel: the epoch of its history and an offset in it. */
export interface ChannelPosition {
  readonly epoch: string;
  readonly offset: number;
}

/**
 * How a publish attempt ended.
 *
 * - `acked`: the server answered with the publication's position
 *   (`duplicate: true` when it deduplicated the key and answered an earlier
 *   publication's position).
 * - `failed`: the server answered with an error code; nothing may have been
 *   stored.
 * - `unknown`: no answer (timeout, connection lost); it may or may not have
 *   been applied.
 * - `pending`: still in flight when the history was taken; read as `unknown`.
 */
export type PublishOutcome =
  | { readonly kind: 'acked'; readonly epoch: string; readonly offset: number; readonly duplicate?: boolean }
  | { readonly kind: 'failed'; readonly code: string }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'pending' };

/**
 * One publish attempt. Attempts that reuse a key (retries) are separate
 * records with the same `publisher`, `channel` and `key`.
 */
export interface PublishAttempt {
  /** 0, 1, 2 … in the order attempts were recorded. */
  readonly id: number;
  /** Who published (client or node name); keys are scoped to it and the channel. */
  readonly publisher: string;
  readonly channel: string;
  /** The idempotency key sent (the wire field `key`). */
  readonly key: string;
  /** The data published, or a unique id standing for it. */
  readonly payload: unknown;
  readonly outcome: PublishOutcome;
  /** Recorder clock, ms, when the attempt was sent. */
  readonly invokedAt: number;
  /** Recorder clock, ms, when its outcome was recorded. */
  readonly completedAt?: number;
}

/** One publication handed to a subscriber (`onPublication`). */
export interface DeliveryEvent {
  readonly type: 'delivery';
  readonly subscriber: string;
  readonly channel: string;
  /** The subscription's epoch when the publication arrived. */
  readonly epoch: string;
  readonly offset: number;
  readonly payload: unknown;
  readonly at: number;
}

/**
 * A subscribe or resubscribe reply as one subscriber saw it: `since` is the
 * position it asked to recover from (absent on a fresh subscribe), `epoch`
 * and `offset` the reply's, and `recovered` the reply's flag (absent when
 * nothing was asked).
 */
export interface SubscribeReplyEvent {
  readonly type: 'subscribed';
  readonly subscriber: string;
  readonly channel: string;
  readonly since?: ChannelPosition;
  readonly epoch: string;
  readonly offset: number;
  readonly recovered?: boolean;
  readonly at: number;
}

/** The subscriber stopped its subscription (it owes nothing after its last delivery). */
export interface UnsubscribeEvent {
  readonly type: 'unsubscribed';
  readonly subscriber: string;
  readonly channel: string;
  readonly at: number;
}

/** What subscribers saw, in the order it happened. */
export type SubscriberEvent = DeliveryEvent | SubscribeReplyEvent | UnsubscribeEvent;

/** A channel's history as the server returned it at the end of the run. */
export interface FinalChannelHistory {
  readonly channel: string;
  readonly epoch: string;
  /** The channel's last offset. */
  readonly offset: number;
  /** The retained publications (any order). */
  readonly publications: ReadonlyArray<{ readonly offset: number; readonly payload: unknown }>;
}

/** Everything {@link checkChannelHistory} reads. */
export interface RecordedHistory {
  readonly publishes: readonly PublishAttempt[];
  /** Deliveries, subscribe replies and unsubscribes, in recorded order. */
  readonly events: readonly SubscriberEvent[];
  /** At most one per channel; optional. */
  readonly finals: readonly FinalChannelHistory[];
}
