import type { CodecName, ConnectResult, NodeStatus, ServerMessage, SynclineError } from '@syncline/protocol';
import type { BackoffOptions } from './backoff.js';
import type { StateChange } from './states.js';
import type { FallbackOptions, TransportName } from './transport/fallback.js';
import type { TransportFactory } from './transport/transport.js';
import type { WebSocketConstructor } from './transport/websocket.js';
import type { AppUpdate, ReloadGuardOptions } from './versions/app-update.js';

/** Time a request waits for its reply when `requestTimeoutMs` is not set. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Options of `createClient`. */
export interface ClientOptions extends ReloadGuardOptions {
  /** Server base URL (`http(s)://host:port`) or a full WebSocket URL. */
  readonly url: string;
  /** A connection token. */
  readonly token?: string;
  /** Fetches a fresh token: at connect without `token`, when it expired, and before it expires. */
  readonly getToken?: () => Promise<string>;
  /** Reconnect backoff bounds (full jitter). */
  readonly reconnect?: BackoffOptions;
  /**
   * Time a request waits for its reply, including time spent offline
   * (default 15 s). For `publish`, the time from the call to its outcome:
   * waiting behind earlier publishes of its channel and `rate_limited`
   * retries included.
   */
  readonly requestTimeoutMs?: number;
  /** Connect as soon as the client is created (default true). */
  readonly autoConnect?: boolean;
  /** WebSocket implementation (default the global one, or `ws` in Node). */
  readonly WebSocket?: WebSocketConstructor;
  /** Transport factory (advanced; overrides `transports`). */
  readonly transport?: TransportFactory;
  /** Transports to try, in order (default `['websocket', 'sse', 'longpoll']`); see docs/transports.md. */
  readonly transports?: readonly TransportName[];
  /**
   * Carry `connect` in the WebSocket upgrade request, so the server answers
   * it with the upgrade (one round trip fewer; default true). The token then
   * travels in the `Sec-WebSocket-Protocol` header (docs/security.md); a
   * server without the feature gets a `connect` frame as usual. `false`
   * always sends the `connect` frame. SSE and long-polling always do.
   */
  readonly handshakeConnect?: boolean;
  /** Timing and memory of the transport fallback. */
  readonly fallback?: FallbackOptions;
  /**
   * Wire format (default `json`): `msgpack` sends binary MessagePack frames
   * (base64 lines over SSE and long-polling), smaller and cheaper to decode
   * for large payloads; see docs/protocol.md.
   */
  readonly codec?: CodecName;
  /**
   * Opaque data sent in `connect` for the app's backend (a session cookie,
   * an app token), or a function read at every connect. A server with a
   * connect proxy authenticates a client without `token` by asking the
   * backend with it (docs/proxy.md).
   */
  readonly connectData?: unknown;
  /** App version, announced to the server. */
  readonly app?: { readonly version: string; readonly build?: string };
  /** Client name and version, for server logs. */
  readonly client?: { readonly name?: string; readonly version?: string };
}

/** Events of a client. */
export interface ClientEvents {
  state: StateChange;
  connected: ConnectResult;
  /** Errors with no request to reject (refresh failures, server error pushes). */
  error: SynclineError;
  /**
   * A server message the core does not handle itself (not a heartbeat,
   * `disconnect`, reply, error, publication, `unsubscribed` or user message),
   * before the feature areas' handlers see it.
   */
  message: ServerMessage;
  /** A message sent to this user (server `sendToUser` or `POST /v1/users/{user}/messages`). */
  userMessage: UserMessageEvent;
  /** The server's verdict on this app version changed (see `client.update`, docs/versioning.md). */
  update: AppUpdate;
  /**
   * The node lost (`degraded: true`, `reason` names the backend) or got back
   * (`degraded: false`) its message broker or document storage. While
   * degraded, live updates may be delayed and refused commands are retried by
   * the SDK (see `client.serverStatus`).
   */
  degraded: NodeStatus;
}

/** Payload of the `userMessage` event. */
export interface UserMessageEvent {
  readonly data: unknown;
  /** Server time, ms since the epoch. */
  readonly ts: number;
}

/** Handles server messages of a feature area (documents, presence). */
export type MessageHandler = (message: ServerMessage) => boolean;
