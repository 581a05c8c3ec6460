export { type BackendName, type NodeStatus, SynclineError } from '@syncline/protocol';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export {
  type ChannelHistory,
  type ClientEvents,
  type ClientOptions,
  createClient,
  errorFromMessage,
  type MessageHandler,
  randomId,
  SynclineClient,
  type UserMessageEvent,
} from './client.js';
export * from './docs/index.js';
export { Emitter, type Listener } from './emitter.js';
export { PresenceChannel, type PresenceChannelEvents } from './presence/presence-channel.js';
export {
  type PresenceMember,
  type PresenceMemberEvent,
  PresenceMembers,
  type PresenceMembersEvents,
} from './presence/presence-members.js';
export type {
  ChannelData,
  ChannelName,
  ClientSchema,
  NamespaceTypes,
  PresenceStateOf,
  RpcArgs,
  RpcName,
  RpcReturn,
  RpcTypes,
  UntypedSchema,
} from './schema-types.js';
export { HEALTHY_STATUS, ServerStatusTracker } from './server-status.js';
export type { ClientState, StateChange, StateReason, SubscriptionState } from './states.js';
export {
  type ReceivedPublication,
  type SubscribedEvent,
  type SubscribeOptions,
  Subscription,
  type SubscriptionEvents,
} from './subscription.js';
export {
  DEFAULT_TRANSPORTS,
  type FallbackOptions,
  fallbackTransport,
  type NamedTransport,
  type StorageLike,
  type TransportName,
} from './transport/fallback.js';
export { httpBaseUrl } from './transport/http-common.js';
export { longPollTransport } from './transport/longpoll.js';
export { type EventSourceConstructor, type SseTransportOptions, sseTransport } from './transport/sse.js';
export type { ClientTransport, ClientTransportEvents, TransportFactory } from './transport/transport.js';
export {
  defaultWebSocket,
  type WebSocketConstructor,
  type WebSocketLike,
  websocketTransport,
  websocketUrl,
} from './transport/websocket.js';
export {
  type AppUpdate,
  AppUpdateTracker,
  DEFAULT_RELOAD_GUARD_MS,
  memoryReloadStorage,
  type ReloadGuardOptions,
} from './versions/app-update.js';
