import type { Publication } from '@syncline/protocol';
import type { BackendHealth, HealthListener } from '../health/backend-health.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';

/** A publication to append. */
export interface PublishInput {
  readonly channel: string;
  readonly data: unknown;
  /** Publisher user id; undefined for server/HTTP publications. */
  readonly user?: string | undefined;
  /** Idempotency key, already scoped to the publisher. */
  readonly key?: string | undefined;
  readonly history: HistoryOptions;
}

/** Where a publication landed. */
export interface PublishOutcome {
  readonly offset: number;
  readonly epoch: string;
  /** True when the key was already used: nothing new was published. */
  readonly duplicate: boolean;
}

/** A channel's stream position. */
export interface StreamTop {
  readonly epoch: string;
  /** Offset of the newest publication (0: none yet). */
  readonly offset: number;
}

/** A read of retained history. */
export interface HistoryRead extends StreamTop {
  /** Smallest retained offset, 0 when nothing is retained. */
  readonly minOffset: number;
  readonly publications: Publication[];
}

/** A publication as the broker hands it to a node. */
export interface BrokerPublication extends Publication {
  readonly channel: string;
  readonly epoch: string;
  /**
   * `data` as JSON text (`JSON.stringify(data ?? null)`), when the broker
   * already made it (the embedded broker, for its history row): the JSON
   * `pub` frame embeds it instead of encoding the data again.
   */
  readonly json?: string | undefined;
}

/** Receives a node's publications for one channel, in offset order. */
export type BrokerListener = (pub: BrokerPublication) => void;

/**
 * Told that a channel's epoch changed while no publication shows it yet (the
 * backend lost writes, found when the node caught up after a reconnect);
 * `offset` is the channel's top in the new epoch.
 */
export type BrokerEpochListener = (epoch: string, offset: number) => void;

/**
 * Moves publications between nodes and keeps channel history.
 *
 * Contract:
 * - `publish` resolves only once the publication is durable in history (when
 *   the namespace keeps history) and has been handed to fan-out; it assigns
 *   offsets 1, 2, 3 … per channel with no gaps and no reuse within an epoch.
 *   Publications of one caller are assigned offsets in call order.
 * - A `publish` rejected with `unavailable` stored nothing; one rejected with
 *   `timeout` may or may not have been applied (resend it with its key).
 * - A publication with a key that was already used within the retained history
 *   (or, in a namespace without history, within the TTL) is not stored again;
 *   the earlier offset is returned with `duplicate: true`.
 * - Listeners of a channel receive every publication of it in offset order, at
 *   most once; after a backend failure they may miss some, which subscribers
 *   recover through `history`.
 * - `epoch` changes only when the channel's history was lost, or may have
 *   been (the backend restarted or failed over); an (epoch, offset) is never
 *   handed out for two different publications.
 */
export interface Broker {
  publish(input: PublishInput): Promise<PublishOutcome>;
  /** Starts delivering a channel's publications (and epoch changes, when the broker can lose writes) to this node. */
  subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void>;
  /** Stops delivering a channel to this node. */
  unsubscribe(channel: string): Promise<void>;
  /** Reads publications after `since` (exclusive), oldest first, at most `limit`. */
  history(channel: string, options: { since: number; limit: number; history: HistoryOptions }): Promise<HistoryRead>;
  /**
   * Reads history backwards: the newest retained publications with offsets
   * below `before` (exclusive), at most `limit`, returned oldest first. A
   * `before` above the top reads the newest ones. With `limit` 0 it reads only
   * the position (epoch, top and `minOffset`), touching no publication, so it
   * is the cheap way to learn a channel's retained range.
   */
  historyBefore(
    channel: string,
    options: { before: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead>;
  /** Current top of a channel. */
  top(channel: string): Promise<StreamTop>;
  close(): Promise<void>;
  /**
   * Optional health seam (see `HealthReporter`): a network broker reports
   * itself down within `BACKEND_DOWN_DETECT_MS` of losing its backend; the
   * node then answers 503 on `/readyz` and refuses broker commands at once.
   * Absent: always up.
   */
  health?(): BackendHealth;
  /** Calls `listener` on every change of `health()`; returns the remover. */
  onHealth?(listener: HealthListener): () => void;
}
