/** Connection states of a client. */
export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'closed';

/**
 * Why a transition happened. Every `state` event carries one.
 * - `connect_called`: the app called `connect()` (or autoConnect).
 * - `reconnect`: the backoff timer fired.
 * - `connected`: the server accepted `connect`.
 * - `transport_closed`: the socket closed without a server `disconnect` message.
 * - `transport_error`: the socket could not be opened.
 * - `server_disconnect`: the server sent `disconnect` (its code is in `code`).
 * - `heartbeat_timeout`: no frame from the server for too long.
 * - `connect_error`: the server refused `connect` with a retryable error.
 * - `unauthorized`: the token was refused and no `getToken` can replace it;
 *   requests fail at once with the refusal's code.
 * - `token_error`: `getToken` failed.
 * - `unsupported_protocol`: the server does not speak this client's protocol.
 * - `offline` / `online`: the browser's network status changed.
 * - `client_closed`: the app called `close()`, or `disconnect()`.
 */
export type StateReason =
  | 'connect_called'
  | 'reconnect'
  | 'connected'
  | 'transport_closed'
  | 'transport_error'
  | 'server_disconnect'
  | 'heartbeat_timeout'
  | 'connect_error'
  | 'unauthorized'
  | 'token_error'
  | 'unsupported_protocol'
  | 'offline'
  | 'online'
  | 'client_closed';

/** Payload of the `state` event. */
export interface StateChange {
  readonly state: ClientState;
  readonly previous: ClientState;
  readonly reason: StateReason;
  /** Close or error code, when one caused the transition. */
  readonly code?: number | string;
  /** Delay before the next attempt, when one is scheduled. */
  readonly retryInMs?: number;
}

/** Subscription states. */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';
