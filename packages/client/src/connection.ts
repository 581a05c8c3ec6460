import {
  CLOSE_CODES,
  type ClientCommand,
  CODECS,
  type Codec,
  type CommandOf,
  type ConnectResult,
  closeCodeInfo,
  type ErrorMessage,
  isServerMessage,
  type ReplyMessage,
  type ServerMessage,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { backoffDelay } from './backoff.js';
import type { ClientEvents, ClientOptions } from './client-options.js';
import { connectCommand, TOKEN_CLOSE_CODES, TOKEN_ERROR_CODES, tokenCloseError } from './connect-command.js';
import type { Emitter } from './emitter.js';
import { Outbox } from './outbox.js';
import { errorFromMessage } from './request-manager.js';
import type { ClientState, StateChange, StateReason } from './states.js';
import type { TokenKeeper } from './token-refresh.js';
import { transportFromList } from './transport/fallback.js';
import type { ClientFrame, ClientTransport, TransportFactory } from './transport/transport.js';

/** Server ping interval assumed until `connect` announces one. */
const DEFAULT_PING_INTERVAL_MS = 25_000;

/** Silence allowed on top of two ping intervals before the first frame of a new transport. */
const OPEN_WATCHDOG_SLACK_MS = 10_000;

/** Silence allowed on top of two ping intervals once frames flow. */
const WATCHDOG_SLACK_MS = 5_000;

/** What the connection hands over to the rest of the client. */
export interface ConnectionHost {
  /** A correlation id for the `connect` command (shared with requests). */
  allocateId(): number;
  /** A decoded server message that is not about the connection itself. */
  onMessage(message: ServerMessage): void;
  /** `connect` was accepted (state is `connected`, `connected` emitted): resume the session's work. */
  onAccepted(): void;
  /** The connection ended: in-flight work must wait for the next one or fail. */
  onLost(): void;
  /** The client is closing for good: fail everything that waits. */
  onClosing(): void;
  /**
   * The connection was refused for its token and cannot get a new one
   * (`refusal` is set): fail what waits for a connection with `err`.
   */
  onRefused(err: SynclineError): void;
}

interface ServerDisconnect {
  readonly code: number;
  readonly reconnect: boolean;
  readonly reason: string;
  readonly retryAfterMs?: number;
}

/**
 * The connection lifecycle of a client, as an explicit state machine:
 *
 * ```
 * disconnected ──connect()/online/backoff timer──▶ connecting
 * connecting ──connect accepted──▶ connected
 * connecting|connected ──transport closed / heartbeat timeout / getToken or transport error──▶
 *     disconnected (with `retryInMs`: a reconnect is scheduled with backoff)
 * connecting|connected ──offline / disconnect() / non-reconnectable close──▶ disconnected (no timer)
 * any ──close() / unsupported protocol──▶ closed (final)
 * ```
 *
 * A `connect` refused for its token (`unauthorized`, `token_expired`,
 * `revoked`) with no `getToken` to replace it, or a failing `getToken`, sets
 * `refusal` (and tells the host, which fails what waits) until a `connect` is
 * accepted. Every transition is a `state` event with a `StateReason`. Each transport
 * attempt has a generation; callbacks of a superseded one are ignored. A
 * watchdog declares the connection lost when the server stays silent for two
 * ping intervals and some slack.
 */
export class Connection {
  readonly #options: ClientOptions;
  readonly #events: Emitter<ClientEvents>;
  readonly #tokens: TokenKeeper;
  readonly #host: ConnectionHost;
  readonly #transportFactory: TransportFactory;
  /** Wire format of every frame (`ClientOptions.codec`). */
  readonly #codec: Codec;
  readonly #outbox: Outbox;
  #state: ClientState = 'disconnected';
  #lastChange: StateChange | undefined;
  #transport: ClientTransport | undefined;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #pingIntervalMs = DEFAULT_PING_INTERVAL_MS;
  #connectId = 0;
  #info: ConnectResult | undefined;
  #lastDisconnect: ServerDisconnect | undefined;
  /** The error of the last `connect` refused for its token, until the close that follows. */
  #connectRefusal: SynclineError | undefined;
  #refusal: SynclineError | undefined;
  #generation = 0;
  readonly #onOnline = (): void => {
    if (this.#state === 'disconnected') this.#startConnecting('online');
  };
  readonly #onOffline = (): void => {
    if (this.#state === 'connected' || this.#state === 'connecting') this.#lost('offline');
  };

  constructor(options: ClientOptions, events: Emitter<ClientEvents>, tokens: TokenKeeper, host: ConnectionHost) {
    this.#options = options;
    this.#events = events;
    this.#tokens = tokens;
    this.#host = host;
    this.#codec = CODECS[options.codec ?? 'json'];
    this.#outbox = new Outbox(() => this.#transport, this.#codec);
    this.#transportFactory =
      options.transport ??
      transportFromList({
        ...(options.transports ? { transports: options.transports } : {}),
        ...(options.fallback ? { fallback: options.fallback } : {}),
        ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      });
    const g = globalThis as { addEventListener?: (t: string, l: () => void) => void };
    g.addEventListener?.('online', this.#onOnline);
    g.addEventListener?.('offline', this.#onOffline);
  }

  /** Current state. */
  get state(): ClientState {
    return this.#state;
  }

  /** The last transition, if any. */
  get lastChange(): StateChange | undefined {
    return this.#lastChange;
  }

  /** Facts from the last accepted `connect`. */
  get info(): ConnectResult | undefined {
    return this.#info;
  }

  /** The open transport's name. */
  get transportName(): string | undefined {
    return this.#transport?.name;
  }

  /**
   * Why the connection cannot be used until the token problem is solved:
   * set when `connect` was refused for its token (`unauthorized`,
   * `token_expired`, `revoked`) and no `getToken` can replace it, or when
   * `getToken` failed; cleared when a `connect` is accepted.
   */
  get refusal(): SynclineError | undefined {
    return this.#refusal;
  }

  /** Changes whenever a transport attempt starts or ends. */
  get generation(): number {
    return this.#generation;
  }

  /** Queues a message on the open transport (dropped when none is open). */
  send(message: ClientCommand): void {
    this.#outbox.push(message);
  }

  /** `disconnected` → `connecting` (no-op in any other state). */
  connect(): void {
    if (this.#state === 'closed' || this.#state === 'connecting' || this.#state === 'connected') return;
    this.#attempt = 0;
    this.#startConnecting('connect_called');
  }

  /** → `disconnected` without a reconnect; `connect()` brings it back. */
  disconnect(): void {
    if (this.#state === 'closed' || this.#state === 'disconnected') return;
    this.#clearTimers();
    this.#dropTransport(CLOSE_CODES.NORMAL.code, 'disconnect called');
    this.#connectionLost();
    this.#setState('disconnected', 'client_closed');
  }

  /** → `closed`, for good. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#clearTimers();
    this.#dropTransport(CLOSE_CODES.NORMAL.code, 'client closed');
    this.#host.onClosing();
    const g = globalThis as { removeEventListener?: (t: string, l: () => void) => void };
    g.removeEventListener?.('online', this.#onOnline);
    g.removeEventListener?.('offline', this.#onOffline);
    this.#setState('closed', 'client_closed');
  }

  // --- transitions -------------------------------------------------------------

  #setState(state: ClientState, reason: StateReason, extra: { code?: number | string; retryInMs?: number } = {}): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    const change: StateChange = { state, previous, reason, ...extra };
    this.#lastChange = change;
    this.#events.emit('state', change);
  }

  #startConnecting(reason: StateReason): void {
    this.#setState('connecting', reason);
    const generation = ++this.#generation;
    void this.#open(generation);
  }

  async #open(generation: number): Promise<void> {
    try {
      await this.#tokens.ensure();
    } catch (err) {
      if (generation !== this.#generation) return;
      const refusal = new SynclineError('unauthorized', 'getToken failed.', { cause: err });
      this.#events.emit('error', refusal);
      this.#scheduleReconnect('token_error');
      this.#refuse(refusal);
      return;
    }
    if (generation !== this.#generation || this.#state !== 'connecting') return;
    let transport: ClientTransport;
    // Offered to the transport to carry in its opening request (the handshake connect).
    const carried = this.#options.handshakeConnect === false ? undefined : this.#nextConnect();
    try {
      transport = await this.#transportFactory(
        this.#options.url,
        {
          onOpen: (taken) => {
            if (generation !== this.#generation) return;
            this.#sendConnect(carried, taken === true && carried !== undefined);
          },
          onFrame: (frame) => {
            if (generation !== this.#generation) return;
            this.#onFrame(frame);
          },
          onClose: (code) => {
            if (generation !== this.#generation) return;
            this.#onTransportClose(code);
          },
        },
        this.#codec,
        carried,
      );
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
    this.#armWatchdog(this.#pingIntervalMs * 2 + OPEN_WATCHDOG_SLACK_MS);
  }

  /** A `connect` command with a fresh request id. */
  #nextConnect(): CommandOf<'connect'> {
    return connectCommand(this.#options, this.#host.allocateId(), this.#tokens.token);
  }

  /**
   * Sends `connect` as a frame (`cmd`, or a new one), unless the server took
   * the one carried in the opening request (`taken`).
   */
  #sendConnect(cmd: CommandOf<'connect'> | undefined, taken: boolean): void {
    const connect = cmd ?? this.#nextConnect();
    this.#connectId = connect.id;
    this.#lastDisconnect = undefined;
    this.#connectRefusal = undefined;
    if (!taken) this.#transport?.send(this.#codec.encode(connect));
  }

  #onFrame(frame: ClientFrame): void {
    this.#armWatchdog(this.#pingIntervalMs * 2 + WATCHDOG_SLACK_MS);
    let decoded: unknown;
    try {
      decoded = this.#codec.decode(frame);
    } catch {
      const what = this.#codec.label;
      this.#events.emit('error', new SynclineError('bad_frame', `The server sent a frame that is not ${what}.`));
      return;
    }
    if (Array.isArray(decoded)) {
      for (const m of decoded) this.#onMessage(m);
    } else {
      this.#onMessage(decoded);
    }
  }

  /**
   * Handles the connection's own messages; hands the other server messages
   * to the host. A frame element that is not an object with a `type` is
   * reported as a bad frame; a message of a type this client does not know
   * (a newer server's) is ignored.
   */
  #onMessage(msg: unknown): void {
    if (!isServerMessage(msg)) {
      const typed = typeof msg === 'object' && msg !== null && 'type' in msg && typeof msg.type === 'string';
      if (!typed) {
        this.#events.emit('error', new SynclineError('bad_frame', 'The server sent a message without a type.'));
      }
      return;
    }
    switch (msg.type) {
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'disconnect':
        this.#lastDisconnect = {
          code: msg.code,
          reconnect: msg.reconnect,
          reason: msg.reason,
          ...(typeof msg.retryAfterMs === 'number' ? { retryAfterMs: msg.retryAfterMs } : {}),
        };
        return;
      case 'reply':
      case 'error': {
        if (msg.id !== undefined && msg.id === this.#connectId) {
          this.#onConnectReply(msg);
          return;
        }
        break;
      }
    }
    this.#host.onMessage(msg);
  }

  #onConnectReply(msg: ReplyMessage | ErrorMessage): void {
    if (msg.type === 'error') {
      const err = errorFromMessage(msg);
      this.#events.emit('error', err);
      // The server closes the socket next; the close decides what happens.
      if (TOKEN_ERROR_CODES.includes(err.code)) {
        this.#tokens.markStale();
        this.#connectRefusal = err;
      }
      return;
    }
    const info = msg.result as ConnectResult;
    this.#info = info;
    this.#pingIntervalMs = info.pingIntervalMs;
    this.#outbox.setMaxFrameBytes(info.maxFrameBytes);
    this.#attempt = 0;
    this.#refusal = undefined;
    this.#armWatchdog(this.#pingIntervalMs * 2 + WATCHDOG_SLACK_MS);
    this.#setState('connected', 'connected');
    this.#events.emit('connected', info);
    this.#tokens.schedule(info.expiresAt);
    this.#host.onAccepted();
  }

  /** Connected without a token, on `connectData` alone: the server's connect proxy authenticated it. */
  #grantedByProxy(): boolean {
    const o = this.#options;
    return o.token === undefined && o.getToken === undefined && o.connectData !== undefined;
  }

  #onTransportClose(code: number): void {
    this.#transport = undefined;
    this.#generation++;
    this.#connectionLost();
    const d = this.#lastDisconnect;
    const connectRefusal = this.#connectRefusal;
    // A later attempt that fails before its connect must not inherit this reason.
    this.#lastDisconnect = undefined;
    this.#connectRefusal = undefined;
    const info = closeCodeInfo(code);
    const reconnect = d ? d.reconnect : (info?.reconnect ?? true);
    const why: StateReason = d ? 'server_disconnect' : 'transport_closed';
    if (TOKEN_CLOSE_CODES.includes(code)) {
      this.#tokens.markStale();
      // A session the connect proxy granted until a time reconnects with its
      // `connectData`: the app's backend decides again (and may refuse).
      const proxyGranted = code === CLOSE_CODES.TOKEN_EXPIRED.code && this.#grantedByProxy();
      if (this.#tokens.renewable || proxyGranted) {
        this.#scheduleReconnect(code === CLOSE_CODES.TOKEN_EXPIRED.code ? why : 'unauthorized', code, d?.retryAfterMs);
        return;
      }
      this.#clearTimers();
      this.#setState('disconnected', 'unauthorized', { code });
      this.#refuse(connectRefusal ?? tokenCloseError(code, d?.reason ?? ''));
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

  // --- helpers -------------------------------------------------------------------

  /** The token was refused with no way to a new one now: requests fail at once with `err`. */
  #refuse(err: SynclineError): void {
    this.#refusal = err;
    this.#host.onRefused(err);
  }

  #armWatchdog(ms: number): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#lost('heartbeat_timeout'), ms);
  }

  #clearTimers(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#tokens.cancel();
    this.#reconnectTimer = this.#watchdog = undefined;
  }

  #dropTransport(code: number, reason: string): void {
    const t = this.#transport;
    this.#transport = undefined;
    this.#outbox.clear();
    this.#generation++;
    t?.close(code, reason);
  }

  #connectionLost(): void {
    this.#host.onLost();
    this.#tokens.cancel();
  }
}
