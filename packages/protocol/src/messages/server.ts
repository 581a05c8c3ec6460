import type { AppUpdateInfo } from '../app-versions.js';
import type { ErrorCode } from '../errors.js';

/** One publication as delivered to a subscriber or returned by history. */
export interface Publication {
  /** Position in the channel, 1, 2, 3 … without gaps. */
  readonly offset: number;
  readonly data: unknown;
  /** Server time of the publication, ms since the epoch. */
  readonly ts: number;
  /** User id of the publisher, absent for server/HTTP publications. */
  readonly user?: string;
}

/** Result of `connect`. */
export interface ConnectResult {
  /** This connection's id (unique per node, unguessable). */
  readonly session: string;
  readonly user: string;
  readonly protocol: number;
  /** Interval of server pings; the client treats silence past twice this as a dead link. */
  readonly pingIntervalMs: number;
  /** Largest frame the server accepts, bytes; clients keep their batched frames below it. */
  readonly maxFrameBytes?: number;
  /** Token expiry, ms since the epoch, when the token has one. */
  readonly expiresAt?: number;
  /** Optional features this server supports. */
  readonly features: readonly string[];
  /** Server node id, for diagnostics. */
  readonly node: string;
  /** Protocol 2+: the verdict on the announced app version. */
  readonly update?: AppUpdateInfo;
  /** Protocol 3+ (feature `status`): present only while the node is degraded when the client connects. */
  readonly status?: NodeStatus;
  /** What the app's backend returned for this connection through the connect proxy, if it returned `data`. */
  readonly data?: unknown;
}

/** A backend a node depends on: `broker` (channels, presence; Redis in a cluster) or `docs` (document storage). */
export type BackendName = 'broker' | 'docs';

/** Whether the node can serve everything (`degraded: false`) or has lost a backend. */
export interface NodeStatus {
  /** True while at least one backend of the node is unreachable. */
  readonly degraded: boolean;
  /** The backend that is down (`broker` first when both are); absent when not degraded. */
  readonly reason?: BackendName;
  /** Every backend that is down (empty when not degraded). */
  readonly down: readonly BackendName[];
}

/**
 * Server push (protocol 3+, feature `status`): the node's backends changed.
 * Sent to every connected session when the node loses or gets back a
 * backend; while degraded, commands that need the lost backend answer
 * `unavailable` with `retryAfterMs`.
 */
export interface StatusMessage extends NodeStatus {
  readonly type: 'status';
}

/** Result of `subscribe`. */
export interface SubscribeResult {
  readonly epoch: string;
  /** Offset of the last publication in the channel at subscribe time (after `publications`). */
  readonly offset: number;
  /** Present when the subscribe asked to recover from a position. */
  readonly recovered?: boolean;
  /** Missed publications, in order, when recovering. */
  readonly publications?: readonly Publication[];
}

/** Result of `publish`. */
export interface PublishResult {
  readonly offset: number;
  readonly epoch: string;
  /** True when the key was seen before and the earlier publication is returned. */
  readonly duplicate?: boolean;
}

/** Result of `history`. */
export interface HistoryResult {
  readonly epoch: string;
  /** Offset of the last publication in the channel. */
  readonly offset: number;
  /** Smallest retained offset (0 when nothing is retained). */
  readonly minOffset: number;
  readonly publications: readonly Publication[];
}

/** Result of `refresh`. */
export interface RefreshResult {
  readonly expiresAt?: number;
  /** Channels unsubscribed because the new token no longer allows them. */
  readonly unsubscribed: readonly string[];
}

/** Successful reply to the command with the same id. */
export interface ReplyMessage {
  readonly type: 'reply';
  readonly id: number;
  readonly result: unknown;
}

/** Failed reply (with `id`) or connection-level error (without). */
export interface ErrorMessage {
  readonly type: 'error';
  readonly id?: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A publication pushed to a subscriber. */
export interface PubMessage extends Publication {
  readonly type: 'pub';
  readonly channel: string;
}

/** The server ended a subscription (capability shrink, namespace removed …). */
export interface UnsubscribedMessage {
  readonly type: 'unsubscribed';
  readonly channel: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Sent right before the server closes the connection. */
export interface DisconnectMessage {
  readonly type: 'disconnect';
  readonly code: number;
  readonly reason: string;
  readonly reconnect: boolean;
  /** Suggested delay before reconnecting (drain spreads clients with jitter). */
  readonly retryAfterMs?: number;
}

/** Heartbeats. */
export interface PingMessage {
  readonly type: 'ping';
}
export interface PongMessage {
  readonly type: 'pong';
}

/** Every core server→client message. Other areas add theirs in their own files. */
export type CoreServerMessage =
  | ReplyMessage
  | ErrorMessage
  | PubMessage
  | UnsubscribedMessage
  | DisconnectMessage
  | PingMessage
  | PongMessage
  | StatusMessage;
