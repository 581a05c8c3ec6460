import type { BrokerPublication } from '../broker/broker.js';
import type { SharedFrame } from '../session/shared-frame.js';

/**
 * A connection's subscription to one channel: the session holds one per
 * channel, and the channel hub delivers publications to it.
 */
export interface SubscriptionSink {
  /** `pending` buffers publications until the subscribe reply went out. */
  status: 'pending' | 'active';
  /** Last offset delivered (or known) to this subscriber. */
  lastOffset: number;
  /** Publications that arrived while pending. */
  buffer: BrokerPublication[];
  /** Queues a publication's frame on the connection. */
  readonly push: (frame: SharedFrame) => void;
  /** Epoch `lastOffset` belongs to, once known. */
  epoch?: string | undefined;
  /**
   * Ends the subscription because the channel's epoch changed under it (its
   * history was lost); the client is told to resubscribe. Sinks without it
   * are left in place.
   */
  readonly reset?: (() => void) | undefined;
}
