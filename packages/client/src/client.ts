import {
  CLOSE_CODES,
  type ConnectResult,
  closeCodeInfo,
  type ErrorMessage,
  errorGroup,
  type HistoryResult,
  MIN_PROTOCOL_VERSION,
  type MutatorDefs,
  PROTOCOL_VERSION,
  type PublishResult,
  type RefreshResult,
  type SubscribeResult,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import type { DocOptions, DocReplica } from './docs/doc-replica.js';
import { openDoc, type StateOf } from './docs/open-doc.js';
import { Emitter } from './emitter.js';
import type { PresenceChannel } from './presence/presence-channel.js';
import { PresenceRegistry } from './presence/presence-registry.js';
import type { ClientState, StateChange, StateReason } from './states.js';
import { type ReceivedPublication, type SubscribeOptions, Subscription } from './subscription.js';
import { type FallbackOptions, type TransportName, transportFromList } from './transport/fallback.js';
import type { ClientTransport, TransportFactory } from './transport/transport.js';
import type { WebSocketConstructor } from './transport/websocket.js';
import { type AppUpdate, AppUpdateTracker, type ReloadGuardOptions } from './versions/app-update.js';

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
  /** Time a request waits for its reply, including time spent offline (default 15 s). */
  readonly requestTimeoutMs?: number;
  /** Connect as soon as the client is created (default true). */
  readonly autoConnect?: boolean;
  /** WebSocket implementation (default the global one, or `ws` in Node). */
  readonly WebSocket?: WebSocketConstructor;
  /** Transport factory (advanced; overrides `transports`). */
  readonly transport?: TransportFactory;
  /** Transports to try, in order (default `['websocket', 'sse', 'longpoll']`); see docs/transports.md. */
  readonly transports?: readonly TransportName[];
  /** Timing and memory of the transport fallback. */
  readonly fallback?: FallbackOptions;
  /** App version, announced to the server. */
  readonly app?: { readonly version: string; readonly build?: string };
  /** Client name and version, for server logs. */
  readonly client?: { readonly name?: string; readonly version?: string };
}

/** Events of a client. */
export interface ClientEvents extends Record<string, unknown> {
  state: StateChange;
  connected: ConnectResult;
  /** Errors with no request to reject (refresh failures, server error pushes). */
  error: SynclineError;
  /** Any decoded server message (for feature modules). */
  message: Record<string, unknown>;
  /** A message sent to this user (server `sendToUser` or `POST /v1/users/{user}/messages`). */
  userMessage: UserMessageEvent;
  /** The server's verdict on this app version changed (see `client.update`, docs/versioning.md). */
  update: AppUpdate;
}

/** Payload of the `userMessage` event. */
export interface UserMessageEvent {
  readonly data: unknown;
  /** Server time, ms since the epoch. */
  readonly ts: number;
}

interface PendingRequest {
  readonly id: number;
  readonly command: Record<string, unknown>;
  /** Safe to send again on a new connection (idempotent). */
  readonly resend: boolean;
  sent: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: SynclineError) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/** Largest batched frame, in characters, whatever the server accepts. */
const MAX_BATCH_FRAME_CHARS = 16 * 1024;

/** Shortest wait before an in-band token refresh. */
const MIN_REFRESH_DELAY_MS = 1_000;

/** Wait before resending a subscribe refused for a temporary reason without a `retryAfterMs` hint. */
const SUBSCRIBE_RETRY_MS = 1_000;

/** Handles server messages of a feature area (documents, presence). */
export type MessageHandler = (message: Record<string, unknown>) => boolean;

/** A random id (idempotency keys, client ids). */
export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A Syncline client: one logical connection that reconnects by itself and
 * keeps subscriptions (with recovery) and idempotent publishes across
 * reconnects.
 */
export class SynclineClient {
  readonly #options: ClientOptions;
  readonly #events = new Emitter<ClientEvents>();
  readonly #transportFactory: TransportFactory;
  readonly #subs = new Map<string, Subscription>();
  readonly #requests = new Map<number, PendingRequest>();
  readonly #handlers: MessageHandler[] = [];
  readonly #connectedHooks: Array<() => void> = [];
  #state: ClientState = 'disconnected';
  #transport: ClientTransport | undefined;
  #token: string | undefined;
  #tokenStale = false;
  #nextId = 1;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #pingIntervalMs = 25_000;
  #connectId = 0;
  #info: ConnectResult | undefined;
  #outbox: Record<string, unknown>[] = [];
  #flushQueued = false;
  #maxBatchChars = MAX_BATCH_FRAME_CHARS;
  #lastDisconnect: { code: number; reconnect: boolean; reason: string; retryAfterMs?: number } | undefined;
  #generation = 0;
  #presence: PresenceRegistry | undefined;
  readonly #updates: AppUpdateTracker;
  readonly #onOnline = (): void => {
    if (this.#state === 'disconnected') this.#startConnecting('online');
  };
  readonly #onOffline = (): void => {
    if (this.#state === 'connected' || this.#state === 'connecting') this.#lost('offline');
  };

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#token = options.token;
    this.#transportFactory =
      options.transport ??
      transportFromList({
        ...(options.transports ? { transports: options.transports } : {}),
        ...(options.fallback ? { fallback: options.fallback } : {}),
        ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      });
    this.#updates = new AppUpdateTracker(options, (u) => this.#events.emit('update', u));
    this.#events.on('connected', (info) => this.#updates.apply(info.update));
    this.addMessageHandler((msg) => {
      if (msg.type !== 'update') return false;
      this.#updates.apply(msg.update as AppUpdate);
      return true;
    });
    const g = globalThis as { addEventListener?: (t: string, l: () => void) => void };
    g.addEventListener?.('online', this.#onOnline);
    g.addEventListener?.('offline', this.#onOffline);
    if (options.autoConnect !== false) queueMicrotask(() => this.connect());
  }

  /** Connection state: `disconnected`, `connecting`, `connected` or `closed`. */
  get state(): ClientState {
    return this.#state;
  }

  /** Same as `state`, for UI bindings (`subscribe` + `current`). */
  get current(): ClientState {
    return this.#state;
  }

  /** Facts from the last accepted `connect` (session id, user, node). */
  get info(): ConnectResult | undefined {
    return this.#info;
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

  /** Name of the transport in use (`websocket`, `sse`, `longpoll`); undefined while disconnected. */
  get transport(): string | undefined {
    return this.#transport?.name;
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
  subscribe(channel: string, options?: SubscribeOptions): Subscription;
  subscribe(arg: string | (() => void), options: SubscribeOptions = {}): Subscription | (() => void) {
    if (typeof arg === 'function') return this.#events.on('state', () => arg());
    return this.#subscribeChannel(arg, options);
  }

  /** Starts connecting (no-op when already connecting or connected). */
  connect(): void {
    if (this.#state === 'closed' || this.#state === 'connecting' || this.#state === 'connected') return;
    this.#attempt = 0;
    this.#startConnecting('connect_called');
  }

  /** Disconnects without closing; `connect()` brings it back. Subscriptions are kept. */
  disconnect(): void {
    if (this.#state === 'closed' || this.#state === 'disconnected') return;
    this.#clearTimers();
    this.#dropTransport(CLOSE_CODES.NORMAL.code, 'disconnect called');
    this.#connectionLost();
    this.#setState('disconnected', 'client_closed');
  }

  /** Ends the client for good: closes the connection, rejects pending requests. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#clearTimers();
    this.#dropTransport(CLOSE_CODES.NORMAL.code, 'client closed');
    for (const r of this.#requests.values()) {
      if (r.timer) clearTimeout(r.timer);
      r.reject(new SynclineError('client_closed', 'The client was closed.'));
    }
    this.#requests.clear();
    for (const s of this.#subs.values()) s.connectionLost();
    const g = globalThis as { removeEventListener?: (t: string, l: () => void) => void };
    g.removeEventListener?.('online', this.#onOnline);
    g.removeEventListener?.('offline', this.#onOffline);
    this.#setState('closed', 'client_closed');
  }

  #subscribeChannel(channel: string, options: SubscribeOptions): Subscription {
    const existing = this.#subs.get(channel);
    if (existing && existing.state !== 'unsubscribed') return existing;
    const sub = new Subscription(
      channel,
      {
        sendSubscribe: (s) => this.#sendSubscribe(s),
        sendUnsubscribe: (s) => {
          this.#subs.delete(s.channel);
          if (this.#state === 'connected') {
            this.request({ type: 'unsubscribe', channel: s.channel }).catch(() => undefined);
          }
        },
      },
      options,
    );
    sub.on('state', (e) => {
      if (e.state === 'unsubscribed' && this.#subs.get(channel) === sub) this.#subs.delete(channel);
    });
    this.#subs.set(channel, sub);
    if (this.#state === 'connected') this.#sendSubscribe(sub);
    return sub;
  }

  /**
   * Presence of a channel (one object per channel): `enter`/`update`/`leave`
   * this client's entry and `members` (`current` + `subscribe`). Watching
   * starts at once; `close()` leaves and stops watching.
   */
  presence(channel: string): PresenceChannel {
    this.#presence ??= new PresenceRegistry(this, randomId());
    return this.#presence.get(channel);
  }

  /** The live subscription of a channel, if any. */
  getSubscription(channel: string): Subscription | undefined {
    return this.#subs.get(channel);
  }

  /**
   * Publishes to a channel. Every publish carries an idempotency key (random
   * unless given as `id` or `key`), so it is safely resent after a reconnect
   * and never published twice within the key window.
   */
  async publish(channel: string, data: unknown, options: { id?: string; key?: string } = {}): Promise<PublishResult> {
    const key = options.id ?? options.key ?? randomId();
    return (await this.request({ type: 'publish', channel, data, key }, { resend: true })) as PublishResult;
  }

  /** Reads retained history after `since` (exclusive). */
  async history(channel: string, options: { since?: number; limit?: number } = {}): Promise<HistoryResult> {
    const cmd: Record<string, unknown> = { type: 'history', channel };
    if (options.since !== undefined) cmd.since = options.since;
    if (options.limit !== undefined) cmd.limit = options.limit;
    return (await this.request(cmd)) as HistoryResult;
  }

  /**
   * Sends a command and resolves with its reply. Requests made while
   * disconnected wait for the connection (within `requestTimeoutMs`).
   * `resend` requests are sent again after a reconnect if their reply was lost.
   */
  request(command: Record<string, unknown>, options: { resend?: boolean; timeoutMs?: number } = {}): Promise<unknown> {
    if (this.#state === 'closed') return Promise.reject(new SynclineError('client_closed', 'The client is closed.'));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 15_000;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.#requests.delete(id);
              reject(
                new SynclineError('request_timeout', `No reply to "${String(command.type)}" within ${timeoutMs} ms.`),
              );
            }, timeoutMs)
          : undefined;
      const req: PendingRequest = {
        id,
        command: { ...command, id },
        resend: options.resend ?? false,
        sent: false,
        resolve,
        reject,
        timer,
      };
      this.#requests.set(id, req);
      if (this.#state === 'connected') {
        req.sent = true;
        this.send(req.command);
      }
    });
  }

  /** Queues a raw message for the server (batched within a microtask). */
  send(message: Record<string, unknown>): void {
    if (!this.#transport) return;
    this.#outbox.push(message);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /**
   * The replica of a document (`namespace:id`): `current`, `subscribe`,
   * `mutate.<name>(args)`, `status`, `version`. The same object for the same
   * name until it is closed. See docs/documents.md.
   */
  doc<M extends MutatorDefs, S = StateOf<M>>(name: string, options: DocOptions<M>): DocReplica<S, M> {
    return openDoc<M, S>(this, name, options);
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

  // ---------------------------------------------------------------------------

  #flush(): void {
    this.#flushQueued = false;
    const out = this.#outbox;
    this.#outbox = [];
    if (!this.#transport || out.length === 0) return;
    // Batches stay below the server's frame limit; a message too big to share a frame goes alone.
    let batch: string[] = [];
    let chars = 0;
    const sendBatch = (): void => {
      if (batch.length > 0) this.#transport?.send(batch.length === 1 ? (batch[0] as string) : `[${batch.join(',')}]`);
      batch = [];
      chars = 0;
    };
    for (const message of out) {
      const encoded = JSON.stringify(message);
      if (chars + encoded.length + 2 > this.#maxBatchChars) sendBatch();
      batch.push(encoded);
      chars += encoded.length + 1;
    }
    sendBatch();
  }

  #setState(state: ClientState, reason: StateReason, extra: { code?: number | string; retryInMs?: number } = {}): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.#events.emit('state', { state, previous, reason, ...extra });
  }

  #startConnecting(reason: StateReason): void {
    this.#setState('connecting', reason);
    const generation = ++this.#generation;
    void this.#open(generation);
  }

  async #open(generation: number): Promise<void> {
    try {
      if ((this.#token === undefined || this.#tokenStale) && this.#options.getToken) {
        this.#token = await this.#options.getToken();
        this.#tokenStale = false;
      }
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#events.emit('error', new SynclineError('unauthorized', 'getToken failed.', { cause: err }));
      this.#scheduleReconnect('token_error');
      return;
    }
    if (generation !== this.#generation || this.#state !== 'connecting') return;
    let transport: ClientTransport;
    try {
      transport = await this.#transportFactory(this.#options.url, {
        onOpen: () => {
          if (generation !== this.#generation) return;
          this.#sendConnect();
        },
        onFrame: (frame) => {
          if (generation !== this.#generation) return;
          this.#onFrame(frame);
        },
        onClose: (code, reason) => {
          if (generation !== this.#generation) return;
          this.#onTransportClose(code, reason);
        },
      });
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#events.emit('error', toSynclineError(err));
      this.#scheduleReconnect('transport_error');
      return;
    }
    if (generation !== this.#generation) {
      transport.close(CLOSE_CODES.NORMAL.code, 'superseded');
      return;
    }
    this.#transport = transport;
    this.#armWatchdog(this.#pingIntervalMs * 2 + 10_000);
  }

  #sendConnect(): void {
    const cmd: Record<string, unknown> = {
      type: 'connect',
      id: 0,
      protocol: PROTOCOL_VERSION,
      minProtocol: MIN_PROTOCOL_VERSION,
    };
    this.#connectId = this.#nextId++;
    cmd.id = this.#connectId;
    if (this.#token !== undefined) cmd.token = this.#token;
    if (this.#options.app) cmd.app = this.#options.app;
    cmd.client = {
      name: this.#options.client?.name ?? 'syncline-js',
      version: this.#options.client?.version ?? '0.1.0',
    };
    this.#lastDisconnect = undefined;
    this.#transport?.send(JSON.stringify(cmd));
  }

  #onFrame(frame: string): void {
    this.#armWatchdog(this.#pingIntervalMs * 2 + 5_000);
    let decoded: unknown;
    try {
      decoded = JSON.parse(frame);
    } catch {
      this.#events.emit('error', new SynclineError('bad_frame', 'The server sent a frame that is not JSON.'));
      return;
    }
    if (Array.isArray(decoded)) {
      for (const m of decoded) this.#onMessage(m as Record<string, unknown>);
    } else {
      this.#onMessage(decoded as Record<string, unknown>);
    }
  }

  #onMessage(msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'pub': {
        const sub = this.#subs.get(msg.channel as string);
        if (sub && sub.state === 'subscribed') {
          const ok = sub.handlePublication(msg as unknown as ReceivedPublication);
          if (!ok) this.#resubscribe(sub);
        } else if (sub && sub.state === 'subscribing') {
          // The subscribe reply may precede it in the same batch; its handler runs a microtask later.
          queueMicrotask(() => {
            if (sub.state !== 'subscribed' || this.#subs.get(sub.channel) !== sub) return;
            if (!sub.handlePublication(msg as unknown as ReceivedPublication)) this.#resubscribe(sub);
          });
        }
        return;
      }
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'reply':
      case 'error': {
        const id = msg.id as number | undefined;
        if (id !== undefined && id === this.#connectId) {
          this.#onConnectReply(msg);
          return;
        }
        const req = id === undefined ? undefined : this.#requests.get(id);
        if (!req) {
          if (msg.type === 'error') this.#events.emit('error', errorFromMessage(msg as unknown as ErrorMessage));
          return;
        }
        this.#requests.delete(req.id);
        if (req.timer) clearTimeout(req.timer);
        if (msg.type === 'reply') req.resolve(msg.result);
        else {
          const err = errorFromMessage(msg as unknown as ErrorMessage);
          if (err.code === 'token_expired' && this.#options.getToken) this.#tokenStale = true;
          req.reject(err);
        }
        return;
      }
      case 'unsubscribed': {
        const sub = this.#subs.get(msg.channel as string);
        if (sub && errorGroup(String(msg.code)) === 'retry') {
          // A temporary end (e.g. `stream_reset`): resubscribe from the last position.
          sub.connectionLost();
          this.#sendSubscribe(sub);
        } else if (sub) {
          this.#subs.delete(sub.channel);
          sub.handleUnsubscribed(String(msg.code), String(msg.message));
        }
        return;
      }
      case 'message':
        this.#events.emit('userMessage', { data: msg.data, ts: Number(msg.ts) });
        return;
      case 'disconnect':
        this.#lastDisconnect = {
          code: msg.code as number,
          reconnect: msg.reconnect === true,
          reason: String(msg.reason ?? ''),
          ...(typeof msg.retryAfterMs === 'number' ? { retryAfterMs: msg.retryAfterMs } : {}),
        };
        return;
      default:
        this.#events.emit('message', msg);
        for (const h of this.#handlers) if (h(msg)) return;
    }
  }

  #onConnectReply(msg: Record<string, unknown>): void {
    if (msg.type === 'error') {
      const err = errorFromMessage(msg as unknown as ErrorMessage);
      this.#events.emit('error', err);
      if (err.code === 'token_expired' || err.code === 'unauthorized' || err.code === 'revoked') {
        this.#tokenStale = true;
        // The server closes the socket next; the close decides what happens.
      }
      return;
    }
    const info = msg.result as ConnectResult;
    this.#info = info;
    this.#pingIntervalMs = info.pingIntervalMs;
    // A character takes at most 3 bytes in UTF-8.
    this.#maxBatchChars = Math.min(MAX_BATCH_FRAME_CHARS, Math.floor((info.maxFrameBytes ?? 64 * 1024) / 3));
    this.#attempt = 0;
    this.#armWatchdog(this.#pingIntervalMs * 2 + 5_000);
    this.#setState('connected', 'connected');
    this.#events.emit('connected', info);
    this.#scheduleRefresh(info.expiresAt);
    for (const sub of this.#subs.values()) this.#sendSubscribe(sub);
    for (const req of this.#requests.values()) {
      if (!req.sent) {
        req.sent = true;
        this.send(req.command);
      }
    }
    for (const fn of [...this.#connectedHooks]) {
      try {
        fn();
      } catch (err) {
        this.#events.emit('error', toSynclineError(err));
      }
    }
  }

  #sendSubscribe(sub: Subscription): void {
    const since = sub.recoveryPosition();
    const cmd: Record<string, unknown> = { type: 'subscribe', channel: sub.channel };
    if (since) cmd.since = since;
    this.request(cmd, { timeoutMs: 0 }).then(
      (result) => {
        if (this.#subs.get(sub.channel) !== sub) {
          // Unsubscribed while the subscribe was in flight: make sure the server forgets it too.
          if (!this.#subs.has(sub.channel) && this.#state === 'connected') {
            this.request({ type: 'unsubscribe', channel: sub.channel }).catch(() => undefined);
          }
          return;
        }
        sub.handleSubscribed(result as SubscribeResult, since !== undefined);
      },
      (err: SynclineError) => {
        if (err.code === 'connection_lost' || err.code === 'client_closed' || sub.state === 'unsubscribed') return;
        if (err.group === 'retry' && this.#subs.get(sub.channel) === sub) {
          // A temporary failure (broker down, rate limit): try again on this
          // connection after the hint; a new connection resubscribes anyway.
          const generation = this.#generation;
          setTimeout(() => {
            if (generation !== this.#generation || this.#state !== 'connected') return;
            if (this.#subs.get(sub.channel) === sub && sub.state !== 'unsubscribed') this.#sendSubscribe(sub);
          }, err.retryAfterMs ?? SUBSCRIBE_RETRY_MS);
          return;
        }
        if (this.#subs.get(sub.channel) === sub) this.#subs.delete(sub.channel);
        sub.handleError(err);
      },
    );
  }

  #resubscribe(sub: Subscription): void {
    sub.connectionLost();
    const again = (): void => {
      if (sub.state !== 'unsubscribed') this.#sendSubscribe(sub);
    };
    this.request({ type: 'unsubscribe', channel: sub.channel }).then(again, again);
  }

  #scheduleRefresh(expiresAt: number | undefined): void {
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (expiresAt === undefined || !this.#options.getToken) return;
    const lifetime = expiresAt - Date.now();
    // Ahead of expiry by 20% of the lifetime (2 s to 60 s, at most half of it);
    // never sooner than 1 s, so short-lived tokens cannot cause a refresh storm.
    const margin = Math.min(Math.max(2_000, Math.min(60_000, lifetime * 0.2)), lifetime / 2);
    const delay = Math.max(MIN_REFRESH_DELAY_MS, lifetime - margin);
    this.#refreshTimer = setTimeout(() => void this.#refresh(), Math.min(delay, 2_147_483_647));
  }

  async #refresh(): Promise<void> {
    if (this.#state !== 'connected' || !this.#options.getToken) return;
    try {
      const token = await this.#options.getToken();
      this.#token = token;
      const result = (await this.request({ type: 'refresh', token })) as RefreshResult;
      this.#scheduleRefresh(result.expiresAt);
    } catch (err) {
      this.#events.emit('error', toSynclineError(err));
      // Try again shortly; the server closes with TOKEN_EXPIRED if it runs out.
      if (this.#state === 'connected') this.#refreshTimer = setTimeout(() => void this.#refresh(), 5_000);
    }
  }

  #armWatchdog(ms: number): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#lost('heartbeat_timeout'), ms);
  }

  #clearTimers(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#reconnectTimer = this.#watchdog = this.#refreshTimer = undefined;
  }

  #dropTransport(code: number, reason: string): void {
    const t = this.#transport;
    this.#transport = undefined;
    this.#outbox = [];
    this.#generation++;
    t?.close(code, reason);
  }

  /** Mark in-flight work as unsent; reject what cannot be resent. */
  #connectionLost(): void {
    for (const req of [...this.#requests.values()]) {
      if (!req.sent) continue;
      if (req.resend || req.command.type === 'subscribe') {
        req.sent = false;
        if (req.command.type === 'subscribe') {
          this.#requests.delete(req.id);
          if (req.timer) clearTimeout(req.timer);
          req.reject(new SynclineError('connection_lost', 'Connection lost during subscribe.'));
        }
      } else {
        this.#requests.delete(req.id);
        if (req.timer) clearTimeout(req.timer);
        req.reject(
          new SynclineError('connection_lost', `Connection lost before the reply to "${String(req.command.type)}".`),
        );
      }
    }
    for (const s of this.#subs.values()) s.connectionLost();
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
  }

  #lost(reason: StateReason): void {
    if (this.#state === 'closed' || this.#state === 'disconnected') return;
    this.#dropTransport(CLOSE_CODES.NORMAL.code, reason);
    this.#connectionLost();
    if (reason === 'offline') {
      if (this.#watchdog) clearTimeout(this.#watchdog);
      this.#setState('disconnected', 'offline');
      return;
    }
    this.#scheduleReconnect(reason);
  }

  #onTransportClose(code: number, _reason: string): void {
    this.#transport = undefined;
    this.#generation++;
    this.#connectionLost();
    const d = this.#lastDisconnect;
    // A later attempt that fails before its connect must not inherit this reason.
    this.#lastDisconnect = undefined;
    const info = closeCodeInfo(code);
    const reconnect = d ? d.reconnect : (info?.reconnect ?? true);
    const why: StateReason = d ? 'server_disconnect' : 'transport_closed';
    if (
      code === CLOSE_CODES.TOKEN_EXPIRED.code ||
      code === CLOSE_CODES.UNAUTHORIZED.code ||
      code === CLOSE_CODES.REVOKED.code
    ) {
      this.#tokenStale = true;
      if (this.#options.getToken) {
        this.#scheduleReconnect(code === CLOSE_CODES.TOKEN_EXPIRED.code ? why : 'unauthorized', code, d?.retryAfterMs);
        return;
      }
      this.#clearTimers();
      this.#setState('disconnected', 'unauthorized', { code });
      return;
    }
    if (code === CLOSE_CODES.UNSUPPORTED_PROTOCOL.code) {
      this.close();
      return;
    }
    if (!reconnect) {
      this.#clearTimers();
      this.#setState('disconnected', why, { code });
      return;
    }
    this.#scheduleReconnect(why, code, d?.retryAfterMs);
  }

  #scheduleReconnect(reason: StateReason, code?: number | string, minDelayMs?: number): void {
    if (this.#state === 'closed') return;
    if (this.#watchdog) clearTimeout(this.#watchdog);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    const delay = Math.max(minDelayMs ?? 0, backoffDelay(this.#attempt, this.#options.reconnect));
    this.#attempt++;
    const extra: { code?: number | string; retryInMs: number } = { retryInMs: delay };
    if (code !== undefined) extra.code = code;
    this.#setState('disconnected', reason, extra);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'disconnected') this.#startConnecting('reconnect');
    }, delay);
  }
}

/** Turns an error message into a `SynclineError`. */
export function errorFromMessage(msg: ErrorMessage): SynclineError {
  const opts: { retryAfterMs?: number; details?: Readonly<Record<string, unknown>> } = {};
  if (msg.retryAfterMs !== undefined) opts.retryAfterMs = msg.retryAfterMs;
  if (msg.details !== undefined) opts.details = msg.details;
  return new SynclineError(msg.code, msg.message, opts);
}

/** Creates a client. It connects right away unless `autoConnect: false`. */
export function createClient(options: ClientOptions): SynclineClient {
  return new SynclineClient(options);
}
