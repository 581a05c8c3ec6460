import { type AnomalyCounts, type AnomalyExamples, brief } from './anomaly-log.js';

/** Where a payload at a position was seen. */
export type PositionSource =
  | { readonly from: 'delivery'; readonly subscriber: string; readonly event: number }
  | { readonly from: 'final-history' }
  | { readonly from: 'ack'; readonly publish: number; readonly publisher: string; readonly key: string };

/** A subscriber got offset `after` and then `next` in one epoch, and offsets between never arrived. */
export interface GapAnomaly {
  readonly kind: 'gap';
  readonly subscriber: string;
  readonly channel: string;
  readonly epoch: string;
  readonly after: number;
  readonly next: number;
  /** Offsets of the gap that never arrived (the first 10). */
  readonly missing: readonly number[];
  readonly missingCount: number;
  /** Index in `events` of the delivery past the gap. */
  readonly event: number;
}

/** One subscriber got the same (channel, epoch, offset) twice. */
export interface DuplicateDeliveryAnomaly {
  readonly kind: 'duplicate-delivery';
  readonly subscriber: string;
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly payload: unknown;
  readonly firstEvent: number;
  readonly event: number;
}

/** One publish (its payload, sent under one key) is stored at two offsets of one epoch. */
export interface DuplicatePublicationAnomaly {
  readonly kind: 'duplicate-publication';
  readonly channel: string;
  readonly epoch: string;
  readonly publisher: string;
  readonly key: string;
  readonly payload: unknown;
  readonly firstOffset: number;
  readonly offset: number;
}

/** A subscriber got an offset lower than one it already had, in one epoch. */
export interface ReorderingAnomaly {
  readonly kind: 'reordering';
  readonly subscriber: string;
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  /** The highest offset it had (or was positioned at) before. */
  readonly after: number;
  readonly event: number;
}

/** One position carries different payloads (deliveries and final history disagree, or two acks do). */
export interface DivergentPositionAnomaly {
  readonly kind: 'divergent-position';
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly payloads: ReadonlyArray<{ readonly payload: unknown; readonly source: PositionSource }>;
}

/** An acknowledged publication that no one got, that the final history lacks, in an epoch that did not change. */
export interface LostAckAnomaly {
  readonly kind: 'lost-ack';
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly publish: number;
  readonly publisher: string;
  readonly key: string;
  readonly payload: unknown;
  /** Subscribers that were subscribed across the offset (the first 10). */
  readonly subscribers: readonly string[];
  /** The final history's last offset in this epoch, when one was recorded. */
  readonly finalOffset?: number;
}

/** A publication a subscriber was subscribed across and never got, with no `recovered: false` covering it. */
export interface UncoveredMissAnomaly {
  readonly kind: 'uncovered-miss';
  readonly subscriber: string;
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly payload: unknown;
  /** The offsets the subscriber was held to in that subscription. */
  readonly window: { readonly from: number; readonly to: number };
  /** The last offset it got in that epoch (0 when none). */
  readonly lastDelivered: number;
}

/** A publish acknowledged at a position that holds another payload. */
export interface AckPayloadMismatchAnomaly {
  readonly kind: 'ack-payload-mismatch';
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly publish: number;
  readonly key: string;
  readonly sent: unknown;
  readonly held: unknown;
}

/** Every attempt of a key failed with an error code, yet its payload was published. */
export interface FailedButAppliedAnomaly {
  readonly kind: 'failed-but-applied';
  readonly channel: string;
  readonly publisher: string;
  readonly key: string;
  readonly code: string;
  readonly payload: unknown;
  readonly epoch: string;
  readonly offset: number;
}

/** Every anomaly {@link checkChannelHistory} reports. */
export type ChannelAnomaly =
  | GapAnomaly
  | DuplicateDeliveryAnomaly
  | DuplicatePublicationAnomaly
  | ReorderingAnomaly
  | DivergentPositionAnomaly
  | LostAckAnomaly
  | UncoveredMissAnomaly
  | AckPayloadMismatchAnomaly
  | FailedButAppliedAnomaly;

/** The kinds of {@link ChannelAnomaly}. */
export type ChannelAnomalyKind = ChannelAnomaly['kind'];

/** Every {@link ChannelAnomalyKind}, in report order. */
export const CHANNEL_ANOMALY_KINDS: readonly ChannelAnomalyKind[] = [
  'gap',
  'duplicate-delivery',
  'duplicate-publication',
  'reordering',
  'divergent-position',
  'lost-ack',
  'uncovered-miss',
  'ack-payload-mismatch',
  'failed-but-applied',
];

/** Totals of what a channel history held. */
export interface ChannelHistoryStats {
  readonly publishes: number;
  readonly acked: number;
  readonly failed: number;
  readonly unknown: number;
  readonly deliveries: number;
  readonly subscribeReplies: number;
  readonly notRecovered: number;
  readonly subscribers: number;
  readonly channels: number;
  /** Distinct (channel, epoch, offset) positions seen. */
  readonly positions: number;
}

/** The verdict of {@link checkChannelHistory}. */
export interface ChannelCheckResult {
  /** True when no anomaly of any kind was found. */
  readonly ok: boolean;
  readonly counts: AnomalyCounts<ChannelAnomaly>;
  /** The first `maxExamples` of each kind, in the order found. */
  readonly examples: AnomalyExamples<ChannelAnomaly>;
  readonly stats: ChannelHistoryStats;
  /** One paragraph for a test to print. */
  readonly summary: string;
}

/** Options of {@link checkChannelHistory}. */
export interface ChannelCheckOptions {
  /** Examples kept per kind (default 10). */
  readonly maxExamples?: number;
  /** Identity of a payload (default: its canonical JSON). Two payloads are the same publication's when equal. */
  readonly payloadKey?: (payload: unknown) => string;
  /**
   * Whether the run ended quiet (default true): every subscriber still
   * subscribed at the end is then held to every publication of its channel's
   * last epoch. With false it is held only up to its last delivery.
   */
  readonly quiescent?: boolean;
}

const at = (channel: string, epoch: string, offset: number): string => `${channel}@${epoch}:${offset}`;

/** One line describing an anomaly, for summaries and failure messages. */
export function describeChannelAnomaly(a: ChannelAnomaly): string {
  switch (a.kind) {
    case 'gap':
      return `subscriber ${a.subscriber} got ${at(a.channel, a.epoch, a.after)} then ${a.next}, missing ${a.missing.join(', ')}${a.missingCount > a.missing.length ? ' …' : ''}`;
    case 'duplicate-delivery':
      return `subscriber ${a.subscriber} got ${at(a.channel, a.epoch, a.offset)} twice (events ${a.firstEvent} and ${a.event}): ${brief(a.payload)}`;
    case 'duplicate-publication':
      return `key ${a.key} of ${a.publisher} is at ${at(a.channel, a.epoch, a.firstOffset)} and at offset ${a.offset}: ${brief(a.payload)}`;
    case 'reordering':
      return `subscriber ${a.subscriber} got ${at(a.channel, a.epoch, a.offset)} after offset ${a.after} (event ${a.event})`;
    case 'divergent-position':
      return `${at(a.channel, a.epoch, a.offset)} holds ${a.payloads.map((p) => `${brief(p.payload, 30)} (${p.source.from})`).join(' vs ')}`;
    case 'lost-ack':
      return `publish #${a.publish} (key ${a.key}) acked at ${at(a.channel, a.epoch, a.offset)} reached no one${a.subscribers.length ? ` (subscribed: ${a.subscribers.join(', ')})` : ''} and is not in the final history: ${brief(a.payload)}`;
    case 'uncovered-miss':
      return `subscriber ${a.subscriber} never got ${at(a.channel, a.epoch, a.offset)} (held to ${a.window.from}..${a.window.to}, last got ${a.lastDelivered}) and no recovered:false covers it`;
    case 'ack-payload-mismatch':
      return `publish #${a.publish} (key ${a.key}) acked at ${at(a.channel, a.epoch, a.offset)} sent ${brief(a.sent, 30)} but it holds ${brief(a.held, 30)}`;
    case 'failed-but-applied':
      return `key ${a.key} of ${a.publisher} failed (${a.code}) yet is at ${at(a.channel, a.epoch, a.offset)}`;
  }
}
