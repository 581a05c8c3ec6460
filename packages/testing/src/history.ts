/**
 * Jepsen-style history checking: recorders that chaos tests call as events
 * happen, and checkers that read the recorded history and report every
 * anomaly against Syncline's guarantees (docs/guarantees.md, "Checking a
 * history").
 *
 * @module
 */
export type { AnomalyCounts, AnomalyExamples } from './anomaly-log.js';
export { canonicalJson, firstDifference } from './canonical-json.js';
export {
  type AckPayloadMismatchAnomaly,
  CHANNEL_ANOMALY_KINDS,
  type ChannelAnomaly,
  type ChannelAnomalyKind,
  type ChannelCheckOptions,
  type ChannelCheckResult,
  type ChannelHistoryStats,
  type DivergentPositionAnomaly,
  type DuplicateDeliveryAnomaly,
  type DuplicatePublicationAnomaly,
  describeChannelAnomaly,
  type FailedButAppliedAnomaly,
  type GapAnomaly,
  type LostAckAnomaly,
  type PositionSource,
  type ReorderingAnomaly,
  type UncoveredMissAnomaly,
} from './channel-anomalies.js';
export { checkChannelHistory } from './channel-checker.js';
export type {
  ChannelPosition,
  DeliveryEvent,
  FinalChannelHistory,
  PublishAttempt,
  PublishOutcome,
  RecordedHistory,
  SubscribeReplyEvent,
  SubscriberEvent,
  UnsubscribeEvent,
} from './channel-history.js';
export {
  type DeliveryInput,
  HistoryRecorder,
  type PublishHandle,
  type PublishInvocation,
  type SubscribeReplyInput,
} from './history-recorder.js';
