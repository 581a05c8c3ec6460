export {
  ADMIN_CSRF_HEADER,
  ADMIN_NAMESPACE,
  ADMIN_OVERVIEW_CHANNEL,
  type AdminOptions,
  MIN_ADMIN_KEY_BYTES,
} from './admin/admin-options.js';
export type { NodeOverview, OverviewAnswer } from './admin/cluster-overview.js';
export type { NodeSnapshot, OverviewPoint } from './admin/overview-sampler.js';
export * from './auth/capabilities.js';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './auth/request-signature.js';
export { RevocationCache } from './auth/revocation-cache.js';
export { defaultRevocationTime, type RevocationStore, SqliteRevocationStore } from './auth/revocations.js';
export { type SignTokenOptions, signToken } from './auth/sign.js';
export { type AuthOptions, createTokenVerifier, type Principal, type TokenVerifier } from './auth/token-verifier.js';
export type * from './broker/broker.js';
export { LocalBroker } from './broker/local-broker.js';
export { ChannelCountsReporter, type ChannelCountsStore } from './channels/channel-counts.js';
export { ChannelHub, FANOUT_SLICE_MIN_SINKS, pubFrame } from './channels/channel-hub.js';
export { ClusterOccupancy, type OccupancyChange, type OccupancyStore } from './channels/cluster-occupancy.js';
export type { ChannelOccupancy, ChannelsService } from './channels/register-channels.js';
export type { SubscriptionSink } from './channels/subscription-sink.js';
export { NodeBus, type NodeBusListener } from './cluster/node-bus.js';
export {
  DEFAULT_CALL_WAIT_MS,
  type GatheredReplies,
  type GatherOptions,
  MAX_CALL_WAIT_MS,
  type NodeCallHandler,
  type NodeCallReplies,
  NodeCalls,
  type NodesAnswered,
} from './cluster/node-calls.js';
export {
  DEFAULT_NODE_HEARTBEAT_MS,
  DEFAULT_NODE_TTL_MS,
  NODES_CHANNEL,
  NodeRegistry,
  type NodeRegistryOptions,
} from './cluster/node-registry.js';
export {
  DEFAULT_MAX_WINDOW_KEYS,
  MemoryWindowCounters,
  type WindowCount,
  type WindowCounters,
} from './cluster/window-counters.js';
export { defineConfig, type SynclineConfig } from './config.js';
export {
  CONFIG_SCHEMA_FILE,
  ConfigFile,
  type ConfigFileOptions,
  configJsonSchema,
  parseConfigFile,
} from './config-file.js';
export type * from './core.js';
export * from './docs/index.js';
export {
  BACKEND_DOWN_DETECT_MS,
  type BackendHealth,
  HEALTH_PROBE_INTERVAL_MS,
  HEALTH_PROBE_TIMEOUT_MS,
  type HealthListener,
  type HealthProbeOptions,
  type HealthReporter,
  HealthSignal,
  startHealthProbe,
  withDeadline,
} from './health/backend-health.js';
export { BACKEND_DOWN_RETRY_MS, NodeHealth, type NodeHealthOptions } from './health/node-health.js';
export type * from './hooks.js';
export { requireApiKey } from './http/api-auth.js';
export { buildOpenApi } from './http/api-openapi.js';
export { type ApiContext, type ApiRoute, HTTP_API_PREFIX, type HttpApiOptions } from './http/api-route.js';
export { type ApiServices, apiRoutes } from './http/api-routes.js';
export { HttpRouter, httpStatusFor, readBody, sendError, sendJson } from './http/router.js';
export { MeteredBroker } from './metrics/metered-broker.js';
export { type MetricSources, ServerMetrics } from './metrics/metrics.js';
export * from './namespaces/namespaces.js';
export { NODE_INFO_CHANNEL, NodeDirectory, type NodeInfo, type NodeList } from './nodes/node-directory.js';
export { DEFAULT_DRAIN_WINDOW_MS, type DrainOptions } from './ops/drain.js';
export { OrderedStream, type OrderedStreamOptions } from './ordering/ordered-stream.js';
export { LocalPresenceFanout, MemoryPresenceStore } from './presence/memory-presence-store.js';
export {
  type PresenceEnterLimits,
  type PresenceLimitName,
  presenceLimitExceeded,
} from './presence/presence-limits.js';
export type * from './presence/presence-store.js';
export {
  DEFAULT_PRESENCE_GRACE_MS,
  DEFAULT_PRESENCE_MAX_STATE_BYTES,
  DEFAULT_PRESENCE_UPDATE_INTERVAL_MS,
  type PresenceOptions,
  type PresenceService,
} from './presence/register-presence.js';
export type { Proxy, ProxyNamespaceOptions, ProxyOptions } from './proxy/register-proxy.js';
export { type AnyRpcMethod, defineRpc, type RpcContext, type RpcMethod, type RpcMethods } from './rpc/rpc-methods.js';
export { createServer, type ServerOptions, type SynclineServer, WEBSOCKET_PATH } from './server.js';
export { FANOUT_SLICE_BUDGET_MS } from './session/flush-scheduler.js';
export { REPLIED, Session } from './session/session.js';
export { defineSlot, type SessionSlot } from './session/session-slot.js';
export { type PreEncoded, SharedFrame } from './session/shared-frame.js';
export type { SqlTransaction } from './storage/sql-transaction.js';
export { migrate, openDatabase, type SqliteDatabase } from './storage/sqlite.js';
export { newEpoch, SqliteHistory } from './storage/sqlite-history.js';
export { type HttpTransportOptions, POLL_PATH, SSE_PATH } from './transport/http-transports.js';
export {
  type ForwardedRequest,
  type ForwardedResponse,
  type ForwardHandler,
  LocalSessionForwarder,
  type SessionForwarder,
} from './transport/session-forwarder.js';
export type * from './transport/transport.js';
export { type ConnectionDetails, MAX_NAMES_PER_CONNECTION, type NameList } from './users/connection-details.js';
export {
  type ConnectionClosed,
  MAX_CONNECTIONS_LISTED,
  USER_QUERIES_CHANNEL,
  type UserConnectionList,
  UserDirectory,
  type UsersPage,
} from './users/user-directory.js';
export type { UserCount } from './users/user-directory-replies.js';
export type { UserDirectoryService } from './users/user-directory-routes.js';
export { USER_OPS_CHANNEL, UserOperations, type UserOpResult } from './users/user-operations.js';
export type { ClientVersionCount, ClientVersionList } from './versions/client-versions.js';
export {
  type FeedListener,
  type FeedPublication,
  type PublicationFeed,
  publicationEventId,
} from './webhooks/publication-feed.js';
export { SqliteWebhookOutbox } from './webhooks/sqlite-webhook-outbox.js';
export {
  DEFAULT_WEBHOOK_RETRY_FOR_MS,
  MAX_WEBHOOK_ENDPOINTS,
  WEBHOOK_DELIVERY_DEFAULTS,
  WEBHOOK_EVENT_TYPES,
  type WebhookDeliveryOptions,
  type WebhookEndpointOptions,
  type WebhookEventType,
} from './webhooks/webhook-options.js';
export {
  type DeliveryStatus,
  deliveryFromRow,
  type OutboxDelivery,
  type OutboxEntry,
  type OutboxRow,
  type OutboxStats,
  streamKey,
  type WebhookEvent,
  type WebhookOutbox,
  type WebhookOutboxFactory,
  type WebhookOutboxSettings,
} from './webhooks/webhook-outbox.js';
export { type WebhookDeliveryService, webhookRoutes } from './webhooks/webhook-routes.js';
export {
  signWebhookBody,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_SIGNATURE_TOLERANCE_S,
} from './webhooks/webhook-signature.js';
