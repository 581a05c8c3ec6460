import {
  type ClientCommand,
  type CommandInput,
  type ConnectResult,
  type HistoryResult,
  type MutatorDefs,
  type NodeStatus,
  type Publication,
  type PublishResult,
  type RequestType,
  type ResultOf,
  type ServerMessage,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import {
  type ClientEvents,
  type ClientOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type MessageHandler,
} from './client-options.js';
import { Connection } from './connection.js';
import type { DocHost, DocMessageHandler } from './docs/doc-host.js';
import { DocRegistry } from './docs/doc-registry.js';
import type { DocOptions, DocReplica } from './docs/doc-replica.js';
import type { StateOf } from './docs/open-doc.js';
import { Emitter } from './emitter.js';
import type { PresenceChannel } from './presence/presence-channel.js';
import { PresenceRegistry } from './presence/presence-registry.js';
import { PublishQueue } from './publish-queue.js';
import { randomId } from './random-id.js';
import { errorFromMessage, RequestManager, type RequestOptions } from './request-manager.js';
import type {
  ChannelData,
  ChannelName,
  ClientSchema,
  PresenceStateOf,
  RpcArgs,
  RpcName,
  RpcReturn,
  UntypedSchema,
} from './schema-types.js';
import { ServerStatusTracker } from './server-status.js';
import type { ClientState, StateChange } from './states.js';
import type { SubscribeOptions, Subscription } from './subscription.js';
import { TokenKeeper } from './token-refresh.js';
import { type AppUpdate, AppUpdateTracker } from './versions/app-update.js';

export type { ClientEvents, ClientOptions, MessageHandler, UserMessageEvent } from './client-options.js';
export { randomId } from './random-id.js';
export { errorFromMessage } from './request-manager.js';

/** A history read of a channel whose data is a `T`. */
export type ChannelHistory<T = unknown> = Omit<HistoryResult, 'publications'> & {
  readonly publications: readonly (Publication & { readonly data: T })[];
};

/**
 * A Syncline client: one logical connection that reconnects by itself and
 * keeps subscriptions (with recovery) and idempotent publishes across
 * reconnects.
 *
 * It wires focused parts together: `Connection` (the connection state
 * machine, transport, heartbeat watchdog, backoff), `RequestManager`
 * (correlation ids, timeouts, resend after a reconnect), `ChannelSubscriptions`
 * and `TokenKeeper` (token fetch and in-band refresh), and routes server
 * messages between them and the feature areas (documents, presence).
 *
 * `C` types channels and presence from the server's config type
 * (`createClient<typeof config>(…)`, see `ClientSchema`): channel names must
 * be `namespace:name` of a declared namespace, and publication data and
 * presence state have the namespace's schema types. Without it everything
 * is `unknown`.
 */
export class SynclineClient<C extends ClientSchema = UntypedSchema> implements DocHost {
  readonly #events = new Emitter<ClientEvents>();
  readonly #handlers: MessageHandler[] = [];
  readonly #connectedHooks: Array<() => void> = [];
  readonly #connection: Connection;
  readonly #requests: RequestManager;
  readonly #publishes: PublishQueue;
  readonly #tokens: TokenKeeper;
  readonly #channels: ChannelSubscriptions;
  readonly #updates: AppUpdateTracker;
  readonly #status: ServerStatusTracker;
  #presence: PresenceRegistry | undefined;
  #docs: DocRegistry | undefined;

  constructor(options: ClientOptions) {
    const client = this;
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#tokens = new TokenKeeper(options.token, options.getToken, {
      get connected() {
        return client.state === 'connected';
      },
      request: (command) => this.request(command),
      emitError: (err) => this.#events.emit('error', err),
    });
    this.#requests = new RequestManager({
      get connected() {
        return client.state === 'connected';
      },
      get refusal() {
        return client.#connection.refusal;
      },
      send: (command) => this.send(command),
      defaultTimeoutMs: requestTimeoutMs,
      onErrorReply: (err) => {
        if (err.code === 'token_expired' && this.#tokens.renewable) this.#tokens.markStale();
      },
    });
    this.#connection = new Connection(options, this.#events, this.#tokens, {
      allocateId: () => this.#requests.allocateId(),
      onMessage: (msg) => this.#onMessage(msg),
      onAccepted: () => this.#onAccepted(),
      onLost: () => {
        this.#requests.connectionLost();
        this.#channels.connectionLost();
      },
      onClosing: () => {
        this.#requests.rejectAll(new SynclineError('client_closed', 'The client was closed.'));
        this.#channels.connectionLost();
      },
      onRefused: (err) => {
        this.#requests.rejectAll(err);
        // Without getToken the refusal is final: subscriptions end too. After a failed getToken
        // the connection keeps trying, and they resubscribe once a connect is accepted.
        if (!this.#tokens.renewable) this.#channels.failAll(err);
      },
    });
    this.#publishes = new PublishQueue({
      request: (command, opts) => this.request(command, opts),
      timeoutMs: requestTimeoutMs,
    });
    const connection = this.#connection;
    this.#channels = new ChannelSubscriptions({
      get connected() {
        return connection.state === 'connected';
      },
      get generation() {
        return connection.generation;
      },
      get refusal() {
        return connection.refusal;
      },
      request: (command, opts) => this.request(command, opts),
    });
    this.#updates = new AppUpdateTracker(options, (u) => this.#events.emit('update', u));
    this.#events.on('connected', (info) => this.#updates.apply(info.update));
    this.addMessageHandler((msg) => {
      if (msg.type !== 'update') return false;
      this.#updates.apply(msg.update);
      return true;
    });
    this.#status = new ServerStatusTracker((status) => this.#events.emit('degraded', status));
    this.#events.on('connected', (info) => this.#status.apply(info.status));
    this.addMessageHandler((msg) => {
      if (msg.type !== 'status') return false;
      this.#status.apply(msg);
      return true;
    });
    if (options.autoConnect !== false) queueMicrotask(() => this.connect());
  }

  /** Connection state: `disconnected`, `connecting`, `connected` or `closed`. */
  get state(): ClientState {
    return this.#connection.state;
  }

  /** Same as `state`, for UI bindings (`subscribe` + `current`). */
  get current(): ClientState {
    return this.#connection.state;
  }

  /**
   * The last state transition (the payload of the last `state` event: state,
   * previous state, reason, code, retry delay); undefined before the first.
   * Lets UI code show why the client is where it is without listening from
   * the start.
   */
  get lastChange(): StateChange | undefined {
    return this.#connection.lastChange;
  }

  /** Facts from the last accepted `connect` (session id, user, node). */
  get info(): ConnectResult | undefined {
    return this.#connection.info;
  }

  /**
   * The server's verdict on this app version (`ClientOptions.app`):
   * `status` `none`, `available` or `required`, the server's `version`,
   * its `message`, and `reload` (ask the user to reload now; false when the
   * reload-loop guard holds). Changes come as `update` events.
   */
  get update(): AppUpdate {
    return this.#updates.current;
  }

  /**
   * True while the node this client is connected to reports a lost backend
   * (message broker or document storage): live updates may be delayed and
   * refused subscribes, presence and document commands are retried by the
   * SDK. Changes come as `degraded` events. Servers older than protocol 3
   * never report it.
   */
  get degraded(): boolean {
    return this.#status.current.degraded;
  }

  /** The node's last reported status: `degraded`, the `reason` backend, and every backend `down`. */
  get serverStatus(): NodeStatus {
    return this.#status.current;
  }

  /** Name of the transport in use (`websocket`, `sse`, `longpoll`); undefined while disconnected. */
  get transport(): string | undefined {
    return this.#connection.transportName;
  }

  /** Adds an event listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: (p: ClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Calls `listener` on every state change (for `useSyncExternalStore`); returns the remover. */
  subscribe(listener: () => void): () => void;
  /**
   * Subscribes to a channel (or returns its live subscription). The
   * subscription resubscribes after reconnects and recovers missed publications.
   */
  subscribe<Ch extends ChannelName<C>>(
    channel: Ch,
    options?: SubscribeOptions<ChannelData<C, Ch>>,
  ): Subscription<ChannelData<C, Ch>>;
  subscribe(arg: string | (() => void), options: SubscribeOptions = {}): Subscription | (() => void) {
    if (typeof arg === 'function') return this.#events.on('state', () => arg());
    return this.#channels.subscribe(arg, options);
  }

  /** Starts connecting (no-op when already connecting or connected). */
  connect(): void {
    this.#connection.connect();
  }

  /** Disconnects without closing; `connect()` brings it back. Subscriptions are kept. */
  disconnect(): void {
    this.#connection.disconnect();
  }

  /** Ends the client for good: closes the connection, rejects pending requests. */
  close(): void {
    this.#connection.close();
  }

  /**
   * Presence of a channel (one object per channel): `enter`/`update`/`leave`
   * this client's entry and `members` (`current` + `subscribe`). Watching
   * starts at once; `close()` leaves and stops watching.
   */
  presence<Ch extends ChannelName<C>>(channel: Ch): PresenceChannel<PresenceStateOf<C, Ch>> {
    this.#presence ??= new PresenceRegistry(this, randomId());
    // The server checks every state against the namespace's schema.
    return this.#presence.get(channel) as PresenceChannel<PresenceStateOf<C, Ch>>;
  }

  /** The live subscription of a channel, if any. */
  getSubscription<Ch extends ChannelName<C>>(channel: Ch): Subscription<ChannelData<C, Ch>> | undefined {
    return this.#channels.get(channel) as Subscription<ChannelData<C, Ch>> | undefined;
  }

  /**
   * Publishes to a channel. Every publish carries an idempotency key (random
   * unless given as `id` or `key`), so it is safely resent after a reconnect
   * or a `rate_limited` refusal and never published twice within the key
   * window. The publishes of this client to one channel keep their call
   * order: they go out one at a time, and one refused with `rate_limited` is
   * sent again after the error's `retryAfterMs` before any later one. The
   * outcome comes within `requestTimeoutMs` of the call, waits included (see
   * `PublishQueue`); other errors reject at once.
   */
  async publish<Ch extends ChannelName<C>>(
    channel: Ch,
    data: ChannelData<C, Ch>,
    options: { id?: string; key?: string } = {},
  ): Promise<PublishResult> {
    if (this.state === 'closed') throw new SynclineError('client_closed', 'The client is closed.');
    const key = options.id ?? options.key ?? randomId();
    return await this.#publishes.publish({ type: 'publish', channel, data, key });
  }

  /**
   * Calls a method the server defines (its config's `rpc`; the token needs
   * the `rpc` capability on the method name) and resolves with what it
   * returned. Errors are `SynclineError`s: `unknown_method`, `invalid_args`,
   * `forbidden`, `rpc_failed` (the handler threw), `timeout`, `rate_limited`.
   * A call is sent once and never resent: one cut by a lost connection
   * rejects with `connection_lost` and may or may not have run.
   */
  async rpc<M extends RpcName<C>>(
    method: M,
    data?: RpcArgs<C, M>,
    options: { timeoutMs?: number } = {},
  ): Promise<RpcReturn<C, M>> {
    const cmd: CommandInput<'rpc'> = data === undefined ? { type: 'rpc', method } : { type: 'rpc', method, data };
    const r = await this.request(cmd, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    // The server's handler for this method returned it.
    return r.data as RpcReturn<C, M>;
  }

  /** Reads retained history after `since` (exclusive). */
  async history<Ch extends ChannelName<C>>(
    channel: Ch,
    options: { since?: number; limit?: number } = {},
  ): Promise<ChannelHistory<ChannelData<C, Ch>>> {
    const cmd: CommandInput<'history'> = { type: 'history', channel };
    if (options.since !== undefined) cmd.since = options.since;
    if (options.limit !== undefined) cmd.limit = options.limit;
    // The server checked every publication against the namespace's schema.
    return (await this.request(cmd)) as ChannelHistory<ChannelData<C, Ch>>;
  }

  /**
   * Sends a command (without its `id`: the client adds it) and resolves with
   * the result of its reply, typed by the command: `request({ type:
   * 'publish', … })` resolves to a `PublishResult`. Requests made while
   * disconnected wait for the connection (within `requestTimeoutMs`).
   * `resend` requests are sent again after a reconnect if their reply was lost.
   */
  request<K extends RequestType>(command: CommandInput<K>, options: RequestOptions = {}): Promise<ResultOf<K>> {
    if (this.state === 'closed') return Promise.reject(new SynclineError('client_closed', 'The client is closed.'));
    return this.#requests.request(command, options);
  }

  /** Queues a command for the server as it is, id included (batched within a microtask). */
  send(message: ClientCommand): void {
    this.#connection.send(message);
  }

  /**
   * The replica of a document (`namespace:id`): `current`, `subscribe`,
   * `mutate.<name>(args)`, `status`, `version`. The same object for the same
   * name until it is closed. See docs/documents.md.
   */
  doc<M extends MutatorDefs, S = StateOf<M>>(name: string, options: DocOptions<M>): DocReplica<S, M> {
    return this.#docRegistry().open<S, M>(name, options);
  }

  /**
   * Routes the server's messages naming document `doc` to `handler` (in
   * registration order until one returns true); returns the remover. Used by
   * document replicas.
   */
  onDocMessage(doc: string, handler: DocMessageHandler): () => void {
    return this.#docRegistry().listen(doc, handler);
  }

  /** The document registry, made (and hooked into message routing) on first use. */
  #docRegistry(): DocRegistry {
    if (!this.#docs) {
      const docs = new DocRegistry(this);
      this.#docs = docs;
      this.addMessageHandler((msg) => docs.route(msg));
    }
    return this.#docs;
  }

  /** Adds a handler for server messages of other areas; return true when handled. */
  addMessageHandler(handler: MessageHandler): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Runs `fn` after every successful connect, after subscriptions were resent. */
  onConnected(fn: () => void): () => void {
    this.#connectedHooks.push(fn);
    return () => {
      const i = this.#connectedHooks.indexOf(fn);
      if (i >= 0) this.#connectedHooks.splice(i, 1);
    };
  }

  // --- routing -------------------------------------------------------------------

  /** Session messages (the connection handled its own). */
  #onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'pub':
        this.#channels.handlePublication(msg);
        return;
      case 'reply':
      case 'error':
        if (!this.#requests.settle(msg) && msg.type === 'error') {
          this.#events.emit('error', errorFromMessage(msg));
        }
        return;
      case 'unsubscribed':
        this.#channels.handleUnsubscribed(msg);
        return;
      case 'message':
        this.#events.emit('userMessage', { data: msg.data, ts: msg.ts });
        return;
      default:
        this.#events.emit('message', msg);
        for (const h of this.#handlers) if (h(msg)) return;
    }
  }

  /** `connect` was accepted: resubscribe, send what waited, then run the connected hooks. */
  #onAccepted(): void {
    this.#channels.resubscribeAll();
    this.#requests.sendUnsent();
    for (const fn of [...this.#connectedHooks]) {
      try {
        fn();
      } catch (err) {
        this.#events.emit('error', toSynclineError(err));
      }
    }
  }
}

/**
 * Creates a client. It connects right away unless `autoConnect: false`.
 * `createClient<typeof config>(…)` types channels and presence from the
 * server's config (imported with `import type`).
 */
export function createClient<C extends ClientSchema = UntypedSchema>(options: ClientOptions): SynclineClient<C> {
  return new SynclineClient<C>(options);
}
