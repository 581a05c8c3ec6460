import type { WebhookEventType } from './webhook-options.js';

/** One event as receivers get it (the JSON body, or one item of a batch). */
export interface WebhookEvent {
  /** Unique id of the event, the same on every retry (receivers deduplicate on it). */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When the event happened, ISO 8601. */
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** An event to store for some receivers. */
export interface OutboxEntry {
  readonly event: WebhookEvent;
  /** Delivery order key: events of one stream reach a receiver in the order they were added. */
  readonly stream: string;
  /** Indexes of the webhook entries that get it. */
  readonly endpoints: readonly number[];
}

/** Status of a delivery: waiting for (another) attempt, or given up on after `retryForMs`. */
export type DeliveryStatus = 'pending' | 'failed';

/** One event for one receiver, as the outbox keeps it until delivered. */
export interface OutboxDelivery {
  /** Id of the delivery (one per event and receiver), increasing in the order they were added. */
  readonly id: number;
  readonly endpoint: number;
  /** The receiver URL when the delivery was added. */
  readonly url: string;
  readonly stream: string;
  readonly event: WebhookEvent;
  /** The event as its JSON text (what is sent). */
  readonly json: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: number;
  /** Earliest time of the next attempt (pending only). */
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
}

/** Counts for the metrics. */
export interface OutboxStats {
  readonly pending: number;
  readonly failed: number;
  /** Creation time of the oldest pending delivery (undefined: none). */
  readonly oldestPendingAt: number | undefined;
}

/**
 * The durable queue of webhook deliveries (one per event and receiver).
 *
 * Contract:
 * - `add` is synchronous: the embedded SQLite store runs it inside the
 *   history append or document commit that caused the event, so the event
 *   exists if and only if its cause does; elsewhere it commits at once. It
 *   never throws for a full outbox: past `maxOutboxEvents` the new
 *   deliveries are dropped and their count returned. (A store on another
 *   database takes its writes inside that database's transaction instead.)
 * - `heads` resolves, per (receiver, stream), the oldest pending delivery
 *   when it is due, oldest first: a stream moves on only once its head is
 *   delivered or failed, which gives order per stream, and a stream whose
 *   head waits for a retry holds back no other stream.
 * - `batch` resolves a stream's oldest pending deliveries, in order.
 * - `delivered` deletes; `retryLater` records an attempt and the next time;
 *   `fail` keeps a delivery as failed. A delivery is only removed by
 *   `delivered`, `prune` (failed ones past their retention) or room-making
 *   (oldest failed first), so a crash between sending and `delivered` means
 *   one more send of the same event id, never a lost one.
 * - One deliverer sends a given stream at a time. The embedded store has a
 *   single node; a shared store (PostgreSQL) must claim streams
 *   (`FOR UPDATE SKIP LOCKED`, with a lease a surviving node takes over).
 */
export interface WebhookOutbox {
  /** Stores the deliveries of events; returns how many were dropped because the outbox was full. */
  add(entries: readonly OutboxEntry[], now: number): number;
  /** Due heads of streams (see the contract), at most `limit`, skipping the streams in `skip` (`streamKey`). */
  heads(now: number, limit: number, skip: ReadonlySet<string>): Promise<OutboxDelivery[]>;
  /** The oldest pending deliveries of one receiver's stream, at most `limit`. */
  batch(endpoint: number, stream: string, limit: number): Promise<OutboxDelivery[]>;
  delivered(ids: readonly number[]): Promise<void>;
  retryLater(ids: readonly number[], nextAttemptAt: number, error: string): Promise<void>;
  fail(ids: readonly number[], error: string, now: number): Promise<void>;
  /** Deliveries by status, by increasing id after `after`. */
  list(status: DeliveryStatus, after: number, limit: number): Promise<OutboxDelivery[]>;
  /** Makes a delivery pending and due now, with a fresh retry window; undefined when it does not exist. */
  retry(id: number, now: number): Promise<OutboxDelivery | undefined>;
  /** Deletes failed deliveries older than `before`, and the oldest failed ones while over `maxEvents`. */
  prune(before: number, maxEvents: number): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** Releases what the store holds (the embedded one leaves the node's database open). */
  close(): Promise<void>;
}

/** Key of one receiver's stream. */
export function streamKey(endpoint: number, stream: string): string {
  return `${endpoint} ${stream}`;
}
