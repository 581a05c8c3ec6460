import type { SqlTransaction } from '../storage/sql-transaction.js';
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

/** What the webhooks feature tells the outbox it opens (see `WebhookOutboxFactory`). */
export interface WebhookOutboxSettings {
  /** Most deliveries (pending and failed) held; past it new ones are dropped. */
  readonly maxEvents: number;
  /** Receiver URL of each webhook entry, by index (stored with each delivery). */
  readonly urls: ReadonlyMap<number, string>;
  /** This node's id: the owner of its claims in a shared outbox. */
  readonly nodeId: string;
  /** How long a claim on a stream lasts after it was taken or extended, ms. */
  readonly leaseMs: number;
}

/** Opens the outbox of a node (the server option `webhookOutbox`). */
export type WebhookOutboxFactory = (settings: WebhookOutboxSettings) => WebhookOutbox;

/**
 * The durable queue of webhook deliveries (one per event and receiver).
 *
 * Contract:
 * - `add` never throws for a full outbox: past `maxEvents` the new
 *   deliveries are dropped and their count returned. The embedded SQLite
 *   store is synchronous, so called inside a history append or a document
 *   commit it is part of that transaction. A store on another database is
 *   given the commit's transaction (`tx`, from `DocStore.onCommit`) and
 *   writes in it; without one it commits on its own, the adds of one node in
 *   the order they were made. A cause stored in a transaction (history
 *   append, commit) and its event exist together or not at all.
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
 * - One node sends a given stream at a time. A shared store (several nodes
 *   on one database) claims streams: `heads` and `batch` take or extend this
 *   node's claim for `leaseMs` and never hand out a stream another node's
 *   live claim holds; a claim not extended in time lapses and another node
 *   takes the stream over from its oldest pending delivery. `delivered`,
 *   `retryLater` and `fail` change only deliveries of streams whose claim
 *   names this node, so the late writes of a node whose claim was taken over
 *   change nothing (its events are sent again by the new owner: at least
 *   once). A stream `delivered` to its end is released at once, and `close`
 *   releases the node's claims. The embedded store has one node and no
 *   claims.
 * - The bound is the whole store's: a shared store counts what every node
 *   added (a node may read that count up to about a second late).
 */
export interface WebhookOutbox {
  /** Stores the deliveries of events (in `tx` when given); returns how many were dropped because the outbox was full. */
  add(entries: readonly OutboxEntry[], now: number, tx?: SqlTransaction): number | Promise<number>;
  /** Due heads of streams (see the contract), at most `limit`, skipping the streams in `skip` (`streamKey`). */
  heads(now: number, limit: number, skip: ReadonlySet<string>): Promise<OutboxDelivery[]>;
  /** The oldest pending deliveries of one receiver's stream, at most `limit` ([] while another node holds it). */
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
  /** Releases what the store holds (a shared store gives up this node's claims; the embedded one leaves the node's database open). */
  close(): Promise<void>;
}

/** One delivery as a SQL outbox table stores it (numbers may come back as strings from a BIGINT). */
export interface OutboxRow {
  id: number | string;
  endpoint: number;
  url: string;
  stream: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number | string;
  next_at: number | string;
  last_error: string | null;
}

/** The delivery of a SQL outbox row. */
export function deliveryFromRow(r: OutboxRow): OutboxDelivery {
  return {
    id: Number(r.id),
    endpoint: r.endpoint,
    url: r.url,
    stream: r.stream,
    event: JSON.parse(r.event) as WebhookEvent,
    json: r.event,
    status: r.status,
    attempts: r.attempts,
    createdAt: Number(r.created_at),
    nextAttemptAt: Number(r.next_at),
    lastError: r.last_error ?? undefined,
  };
}

/** Key of one receiver's stream. */
export function streamKey(endpoint: number, stream: string): string {
  return `${endpoint} ${stream}`;
}
