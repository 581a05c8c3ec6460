/**
 * Jepsen-style history checking: recorders that chaos tests call as events
 * happen, and checkers that read the recorded history and report every
 * anomaly against Syncline's guarantees (docs/guarantees.md, "Checking a
 * history").
 *
 * @module
 */
export type { AnomalyCounts, AnomalyExamples } from './anomaly-log.js';
export { canonicalJson, firstDifference, type JsonDifference } from './canonical-json.js';
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
  type AckVersionMismatchAnomaly,
  type DivergentVersionAnomaly,
  DOC_ANOMALY_KINDS,
  type DocAnomaly,
  type DocAnomalyKind,
  type DocCheckOptions,
  type DocCheckResult,
  type DocHistoryStats,
  type DuplicateMutationAnomaly,
  describeDocAnomaly,
  type LostMutationAnomaly,
  type NotConvergedAnomaly,
  type VersionRepeatAnomaly,
  type VersionSkipAnomaly,
} from './doc-anomalies.js';
export { checkDocHistory } from './doc-checker.js';
export type {
  MutationAttempt,
  MutationOutcome,
  OpLogEntry,
  RecordedDocHistory,
  ReplicaApplyEvent,
  ReplicaFinal,
  ServerFinal,
} from './doc-history.js';
export {
  DocHistoryRecorder,
  type MutationHandle,
  type MutationInvocation,
  type ReplicaApplyInput,
} from './doc-history-recorder.js';
export {
  type DeliveryInput,
  HistoryRecorder,
  type PublishHandle,
  type PublishInvocation,
  type SubscribeReplyInput,
} from './history-recorder.js';
