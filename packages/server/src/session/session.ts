import {
  CLOSE_CODES,
  type ClientCommand,
  type CloseCodeName,
  type Codec,
  type ErrorCode,
  jsonDepthExceeds,
  MAX_JSON_DEPTH,
  parseCommand,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import type { Principal } from '../auth/token-verifier.js';
import type { Connection, ConnectionReceiver, OpeningCommand } from '../transport/transport.js';
import { appendFrame, type Frame, frameSize, type Outbox, writeBatched } from './outbox.js';
import { requestIdOf, requestIdsOf } from './request-ids.js';
import { newSessionId } from './session-ids.js';
import type { SessionSlot } from './session-slot.js';
import type { SharedFrame } from './shared-frame.js';
import { sharedFrames } from './shared-frames.js';

/** A frame, or one decoded command of a batch, held while `connect` is verified. */
type Pending =
  | { readonly frame: string | Uint8Array; readonly bytes: number }
  | { readonly item: unknown; readonly textLength: number | undefined };

/** Lifecycle of a session. */
export type SessionState = 'connecting' | 'authenticating' | 'connected' | 'closed';

/** Returned by a handler that already sent its own reply. */
export const REPLIED: unique symbol = Symbol('replied');

/** What a session needs from the server core. */
export interface SessionHost {
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly maxCommandsPerFrame: number;
  /** Runs one parsed command; the result is the reply (or `REPLIED`). */
  dispatch(session: Session, command: ClientCommand): Promise<unknown> | unknown;
  /** Schedules a flush of this session's outbox at the end of the tick. */
  scheduleFlush(session: Session): void;
  /** Called once when the session is gone. */
  sessionClosed(session: Session, code: number, reason: string): void;
  /** Logs a failure that has no request to answer. */
  logError(err: unknown, session: Session): void;
  /** Logs (warn, throttled) a backend failure the client was told about in Syncline's words; `err.cause` is the backend's own error. */
  logBackendError?(err: SynclineError, session: Session): void;
  /** Called when the session is dropped as a slow consumer (metrics). */
  onSlowConsumer?(session: Session): void;
  /** Called for each error sent to the client, with its code (metrics). */
  onErrorReply?(code: string): void;
}

/**
 * One client connection on the server: authentication state, per-feature state (slots),
 * the outgoing queue (coalesced per tick, bounded in bytes) and heartbeats.
 */
let serials = 0;
function nextSerial(): number {
  serials = (serials + 1) & 0x3fffffff;
  return serials;
}

export class Session implements ConnectionReceiver {
  /** Unguessable id. */
  readonly id = newSessionId();
  readonly conn: Connection;
  readonly createdAt = Date.now();
  state: SessionState = 'connecting';
  principal: Principal | undefined;
  /** Set by the heartbeat when a ping is outstanding. */
  awaitingPong = false;
  /** Order of creation on this node (wraps): spreads the node's heartbeats over their interval. */
  readonly serial = nextSerial();
  /** App info sent in connect. */
  app: { version: string; build?: string } | undefined;
  protocol = 0;

  readonly #host: SessionHost;
  /** The codec the connection negotiated: every frame of this session is encoded and decoded by it. */
  readonly codec: Codec;
  // An idle connection holds as little as possible: the maps and queues
  // below are created on first use and dropped again when emptied.
  /** Per-feature state by slot; each value was made by its key's `create` or given to `setSlot`. */
  #slots: Map<SessionSlot<object>, unknown> | undefined;
  #outbox: Outbox;
  #outboxBytes = 0;
  /** The connection's `bufferedAmount` at the last flush. */
  #backlog = 0;
  #flushScheduled = false;
  /** Arrival time of the oldest sampled frame in the outbox (`SharedFrame.sampledAt`). */
  #sampledAt: number | undefined;
  /** Frames (or decoded commands of a batch) that arrived while `connect` was being verified. */
  #pendingFrames: Array<Pending> | undefined;
  #timers: NodeJS.Timeout[] | undefined;
  /** The `connect` carried in the opening request is being answered. */
  #openingConnect = false;

  constructor(conn: Connection, host: SessionHost) {
    this.conn = conn;
    this.codec = conn.codec;
    this.#host = host;
    conn.receiver = this;
  }

  /** The feature state in `key`'s slot, made by `key.create` on first use. */
  slot<T extends object>(key: SessionSlot<T>): T {
    const existing = this.peek(key);
    if (existing !== undefined) return existing;
    const value = key.create();
    this.setSlot(key, value);
    return value;
  }

  /** The feature state in `key`'s slot, if any (creates nothing). */
  peek<T extends object>(key: SessionSlot<T>): T | undefined {
    // Only `slot` and `setSlot` write under a key, both with a `T` of that key.
    return this.#slots?.get(key) as T | undefined;
  }

  /** Stores `value` in `key`'s slot. */
  setSlot<T extends object>(key: SessionSlot<T>, value: T): void {
    this.#slots ??= new Map();
    this.#slots.set(key, value);
  }

  /** Empties `key`'s slot (the storage itself goes once no slot is left). */
  clearSlot<T extends object>(key: SessionSlot<T>): void {
    if (this.#slots?.delete(key) && this.#slots.size === 0) this.#slots = undefined;
  }

  /** True once the connection is gone (state may change across awaits). */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** User id, once authenticated. */
  get user(): string {
    return this.principal?.user ?? '';
  }

  /** Largest frame this session accepts, bytes. */
  get maxFrameBytes(): number {
    return this.#host.maxFrameBytes;
  }

  /** Bytes this session may have queued before it is closed as a slow consumer. */
  get maxQueueBytes(): number {
    return this.#host.maxQueueBytes;
  }

  /** Bytes waiting in this session's queues. */
  get queuedBytes(): number {
    return this.#outboxBytes + this.conn.bufferedAmount;
  }

  /** Adds a timer cleared when the session closes. */
  addTimer(t: NodeJS.Timeout): void {
    t.unref();
    this.#timers ??= [];
    this.#timers.push(t);
  }

  /** Encodes and queues a message. */
  send(message: object): void {
    this.#queue(this.codec.encode(message));
  }

  /** Queues a message sent to many sessions, encoded once per codec (`SharedFrame`). */
  sendShared(frame: SharedFrame): void {
    if (frame.sampledAt !== undefined) this.#sampledAt ??= frame.sampledAt;
    this.#queue(frame.frameFor(this.codec));
  }

  /** Queues an encoded frame; coalesced with others of this tick. */
  #queue(frame: Frame): void {
    if (this.state === 'closed') return;
    this.#outbox = appendFrame(this.#outbox, frame);
    this.#outboxBytes += frameSize(frame);
    // The connection's backlog only shrinks between flushes: the one measured
    // at the last flush spares asking the connection on every frame.
    const max = this.#host.maxQueueBytes;
    if (this.#outboxBytes + this.#backlog > max && this.#outboxBytes + this.conn.bufferedAmount > max) {
      this.#outbox = undefined;
      this.#outboxBytes = 0;
      this.close('SLOW_CONSUMER', 'send queue limit exceeded');
      return;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#host.scheduleFlush(this);
    }
  }

  /**
   * Writes the queued frames, batched (arrays of messages) in frames of
   * bounded size. Returns the arrival time of the oldest sampled publication
   * among them (`SharedFrame.sampledAt`), if any.
   */
  flush(): number | undefined {
    this.#flushScheduled = false;
    const out = this.#outbox;
    if (out === undefined) return undefined;
    this.#outbox = undefined;
    this.#outboxBytes = 0;
    writeBatched(this.codec, out, (frame) => this.#write(frame));
    const sampledAt = this.#sampledAt;
    if (sampledAt !== undefined) this.#sampledAt = undefined;
    this.#backlog = this.conn.bufferedAmount;
    if (this.#backlog > this.#host.maxQueueBytes) this.close('SLOW_CONSUMER', 'send queue limit exceeded');
    return sampledAt;
  }

  /** Writes one frame, as shared bytes when the transport takes them (text as its UTF-8 bytes). */
  #write(frame: Frame): void {
    const conn = this.conn;
    if (conn.sendBytes === undefined) conn.send(frame);
    else if (typeof frame === 'string') conn.sendBytes(sharedFrames.utf8(frame), false);
    else conn.sendBytes(frame, true);
  }

  /** Sends a successful reply. */
  reply(id: number, result: unknown): void {
    this.send({ type: 'reply', id, result: result ?? null });
  }

  /** Sends an error reply (or a connection-level error without id). */
  replyError(id: number | undefined, err: SynclineError): void {
    const msg: Record<string, unknown> = { type: 'error', code: err.code, message: err.message };
    this.#host.onErrorReply?.(err.code);
    if (id !== undefined) msg.id = id;
    if (err.retryAfterMs !== undefined) msg.retryAfterMs = err.retryAfterMs;
    if (err.details !== undefined) msg.details = err.details;
    this.send(msg);
  }

  /** Sends a `disconnect` push, flushes, and closes with a named close code. */
  close(name: CloseCodeName, reason: string, retryAfterMs?: number): void {
    if (this.state === 'closed') return;
    const info = CLOSE_CODES[name];
    const msg: Record<string, unknown> = { type: 'disconnect', code: info.code, reason, reconnect: info.reconnect };
    if (retryAfterMs !== undefined) msg.retryAfterMs = retryAfterMs;
    if (name === 'SLOW_CONSUMER') this.#host.onSlowConsumer?.(this);
    if (name !== 'SLOW_CONSUMER') {
      this.#outbox = appendFrame(this.#outbox, this.codec.encode(msg));
      this.flush();
    }
    this.conn.close(info.code, reason);
  }

  /** Fails with an error and closes (used for connect failures). */
  fail(err: SynclineError, name: CloseCodeName, id?: number): void {
    this.replyError(id, err);
    this.close(name, err.message);
  }

  /** A frame from the connection (`ConnectionReceiver`). */
  receiveFrame(frame: string | Uint8Array, bytes: number): void {
    if (this.state === 'closed') return;
    this.awaitingPong = false;
    if (this.state === 'authenticating') {
      this.#pendingFrames ??= [];
      this.#pendingFrames.push({ frame, bytes });
      return;
    }
    this.#processFrame(frame, bytes);
  }

  /**
   * Runs the command the client carried in the request that opened the
   * connection (the WebSocket handshake connect) as its first frame: same
   * checks, same replies. Its reply is written as soon as it is ready, not
   * at the next flush, and the connection is told (`openingAnswered`).
   */
  receiveOpening(opening: OpeningCommand): void {
    if ('error' in opening) this.#badInput(undefined, opening.error);
    else if (opening.bytes > this.#host.maxFrameBytes) {
      const limit = this.#host.maxFrameBytes;
      const err = new SynclineError(
        'frame_too_large',
        `Frame of ${opening.bytes} bytes exceeds the limit of ${limit}.`,
        { details: { limit } },
      );
      this.#badInput(requestIdOf(opening.command), err);
    } else {
      this.#openingConnect = true;
      this.#processOne(opening.command, opening.textLength);
      if (this.state === 'authenticating') return;
    }
    this.#openingAnswered();
  }

  /** Writes the opening command's reply now and tells the connection. */
  #openingAnswered(): void {
    this.#openingConnect = false;
    this.flush();
    this.conn.openingAnswered?.();
  }

  #processFrame(frame: string | Uint8Array, bytes: number): void {
    if (bytes > this.#host.maxFrameBytes) {
      const limit = this.#host.maxFrameBytes;
      const err = new SynclineError('frame_too_large', `Frame of ${bytes} bytes exceeds the limit of ${limit}.`, {
        details: { limit },
      });
      // Nothing in the frame is processed; every request in it gets its answer.
      const ids = this.#requestIds(frame);
      if (ids.length === 0) this.#badInput(undefined, err);
      for (const id of ids) this.#badInput(id, err);
      return;
    }
    let decoded: unknown;
    try {
      decoded = this.codec.decode(frame);
    } catch {
      this.#badInput(undefined, new SynclineError('bad_frame', `The frame is not valid ${this.codec.label}.`));
      return;
    }
    // Valid JSON needs two characters a level: the text's length bounds every command's depth.
    const textLength = typeof frame === 'string' ? frame.length : undefined;
    if (Array.isArray(decoded)) {
      if (decoded.length > this.#host.maxCommandsPerFrame) {
        this.#badInput(
          undefined,
          new SynclineError('bad_frame', `A frame may batch at most ${this.#host.maxCommandsPerFrame} commands.`),
        );
        return;
      }
      for (const item of decoded) {
        if (this.state === 'closed') return;
        if (this.state !== 'connected' && this.state !== 'connecting') {
          // Frames batched after a connect are processed once it completes.
          this.#pendingFrames ??= [];
          this.#pendingFrames.push({ item, textLength });
          continue;
        }
        this.#processOne(item, textLength);
      }
    } else {
      this.#processOne(decoded, textLength);
    }
  }

  /**
   * Answers bad input with its error. Before `connect`, the first frame must
   * be a valid `connect` command: anything else also closes with PROTOCOL_ERROR.
   */
  #badInput(id: number | undefined, err: SynclineError): void {
    this.replyError(id, err);
    if (this.state === 'connecting') this.close('PROTOCOL_ERROR', err.message);
  }

  /** Request ids of a frame that is refused unprocessed (bounded by the transport's hard frame limit). */
  #requestIds(frame: string | Uint8Array): number[] {
    try {
      return requestIdsOf(this.codec.decode(frame), this.#host.maxCommandsPerFrame);
    } catch {
      return [];
    }
  }

  #processOne(raw: unknown, textLength: number | undefined): void {
    if (jsonDepthExceeds(raw, MAX_JSON_DEPTH, textLength)) {
      // Refused before any work: nothing downstream walks hostile nesting.
      const err = new SynclineError('invalid_command', `The command nests deeper than ${MAX_JSON_DEPTH} levels.`, {
        details: { limit: MAX_JSON_DEPTH },
      });
      this.#badInput(requestIdOf(raw), err);
      return;
    }
    const parsed = parseCommand(raw);
    if (!parsed.ok) {
      this.#badInput(parsed.id, new SynclineError(parsed.code, parsed.message));
      return;
    }
    const cmd = parsed.command;
    if (cmd.type === 'ping') {
      this.send({ type: 'pong' });
      return;
    }
    if (cmd.type === 'pong') return;
    if (this.state === 'connecting' && cmd.type !== 'connect') {
      this.#badInput(cmd.id, new SynclineError('not_connected', 'Send "connect" first.'));
      return;
    }
    if (this.state === 'connected' && cmd.type === 'connect') {
      this.replyError(cmd.id, new SynclineError('already_connected', 'This connection is already connected.'));
      return;
    }
    if (cmd.type === 'connect') this.state = 'authenticating';
    let out: unknown;
    try {
      out = this.#host.dispatch(this, cmd);
    } catch (err) {
      this.#replyFailure(cmd, err);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (result) => this.#replyResult(cmd, result),
        (err: unknown) => this.#replyFailure(cmd, err),
      );
    } else {
      this.#replyResult(cmd, out);
    }
  }

  #replyResult(cmd: ClientCommand, result: unknown): void {
    if (result !== REPLIED && 'id' in cmd) this.reply(cmd.id, result);
    if (cmd.type !== 'connect') return;
    if (this.#openingConnect) this.#openingAnswered();
    this.#drainPending();
  }

  #replyFailure(cmd: ClientCommand, err: unknown): void {
    const e = toSynclineError(err);
    if (e.code === 'internal') this.#host.logError(err, this);
    else if (e.cause !== undefined && (e.code === 'unavailable' || e.code === 'timeout')) {
      this.#host.logBackendError?.(e, this);
    }
    if ('id' in cmd) this.replyError(cmd.id, e);
    if (cmd.type !== 'connect') return;
    if (this.state === 'authenticating') this.state = 'connecting';
    if (this.#openingConnect) this.#openingAnswered();
  }

  /** Processes frames that arrived while `connect` was being verified. */
  #drainPending(): void {
    const frames = this.#pendingFrames;
    if (frames === undefined) return;
    this.#pendingFrames = undefined;
    for (const p of frames) {
      if (this.state === 'closed') return;
      if ('frame' in p) this.#processFrame(p.frame, p.bytes);
      else this.#processOne(p.item, p.textLength);
    }
  }

  /** The connection is gone (`ConnectionReceiver`). */
  connectionClosed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.#timers) for (const t of this.#timers) clearTimeout(t);
    this.#timers = undefined;
    this.#outbox = undefined;
    this.#pendingFrames = undefined;
    this.#host.sessionClosed(this, code, reason);
  }
}

/** An error for an operation the principal may not perform. */
export function forbidden(op: string, name: string): SynclineError {
  return new SynclineError('forbidden', `Not allowed to ${op} "${name}".`);
}

/** Shorthand for building a typed error. */
export function err(code: ErrorCode, message: string): SynclineError {
  return new SynclineError(code, message);
}
