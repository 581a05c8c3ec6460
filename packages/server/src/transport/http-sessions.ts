import { randomBytes } from 'node:crypto';
import { type Codec, decodeBase64, SynclineError } from '@syncline/protocol';
import {
  type ForwardedRequest,
  type ForwardedResponse,
  type SessionForwarder,
  sessionNotFoundBody,
} from './session-forwarder.js';
import type { Connection } from './transport.js';

/** Length of the random part of an HTTP session id, in bytes (144 bits). */
const SESSION_RANDOM_BYTES = 18;
const SESSION_ID_RE = /^([A-Za-z0-9_-]{1,88})\.([A-Za-z0-9_-]{24})$/;

/** A new unguessable HTTP session id that names its owner node. */
export function newHttpSessionId(nodeId: string): string {
  return `${Buffer.from(nodeId, 'utf8').toString('base64url')}.${randomBytes(SESSION_RANDOM_BYTES).toString('base64url')}`;
}

/** The owner node of an HTTP session id; undefined when the id is malformed. */
export function ownerOfHttpSession(id: string): string | undefined {
  const m = SESSION_ID_RE.exec(id);
  if (!m) return undefined;
  return Buffer.from(m[1] as string, 'base64url').toString('utf8');
}

/** A JSON error answer. */
export function errorResponse(status: number, err: SynclineError): ForwardedResponse {
  const body: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details !== undefined) body.details = err.details;
  return { status, body: JSON.stringify({ error: body }) };
}

/**
 * A connection carried over plain HTTP requests: frames from the client arrive
 * in POST bodies; subclasses define how frames reach the client.
 */
export abstract class HttpSessionConnection implements Connection {
  abstract readonly transport: string;
  readonly id: string;
  readonly remoteAddress: string;
  readonly codec: Codec;
  receiver: Connection['receiver'];
  protected closed = false;

  constructor(id: string, remoteAddress: string, codec: Codec) {
    this.id = id;
    this.remoteAddress = remoteAddress;
    this.codec = codec;
  }

  abstract get bufferedAmount(): number;
  abstract send(frame: string | Uint8Array): void;
  abstract close(code: number, reason: string): void;

  /** True once closed (by either side). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands the frames of one POST to the core, in order. */
  receive(frames: readonly (string | Uint8Array)[]): void {
    for (const f of frames) {
      if (this.closed) return;
      this.receiver?.receiveFrame(f, typeof f === 'string' ? Buffer.byteLength(f) : f.byteLength);
    }
  }

  /** Answers a long-poll; only long-polling sessions support it. */
  poll(): Promise<ForwardedResponse> {
    return Promise.resolve(
      errorResponse(400, new SynclineError('invalid_command', 'This session is not a long-polling session.')),
    );
  }

  /** Marks the connection closed and reports it once. */
  protected finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver?.connectionClosed(code, reason);
  }
}

/** Limits of the HTTP transports. */
export interface HttpSessionLimits {
  /** Frames above it are answered `frame_too_large` by the core, as over WebSocket. */
  readonly maxFrameBytes: number;
  /** A POST body above it is refused with 413 (and nothing in it is delivered). */
  readonly maxBodyBytes: number;
}

/**
 * The HTTP sessions this node owns (session id → connection), and the entry
 * point for requests addressed to them, local or forwarded from other nodes.
 */
export class HttpSessionRegistry {
  readonly nodeId: string;
  readonly limits: HttpSessionLimits;
  readonly #sessions = new Map<string, HttpSessionConnection>();
  readonly #forwarder: SessionForwarder;
  readonly #detach: () => void;

  constructor(nodeId: string, limits: HttpSessionLimits, forwarder: SessionForwarder) {
    this.nodeId = nodeId;
    this.limits = limits;
    this.#forwarder = forwarder;
    this.#detach = forwarder.serve(nodeId, (req) => this.handle(req));
  }

  /** Number of live HTTP sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** A fresh session id owned by this node. */
  newId(): string {
    return newHttpSessionId(this.nodeId);
  }

  add(conn: HttpSessionConnection): void {
    this.#sessions.set(conn.id, conn);
  }

  /** Forgets a session (its connection has finished). */
  remove(conn: HttpSessionConnection): void {
    if (this.#sessions.get(conn.id) === conn) this.#sessions.delete(conn.id);
  }

  /** Routes a request to the owner of its session: this node, or another one through the forwarder. */
  async dispatch(request: ForwardedRequest): Promise<ForwardedResponse> {
    const owner = ownerOfHttpSession(request.session);
    if (owner === undefined) return { status: 404, body: sessionNotFoundBody(request.session) };
    if (owner === this.nodeId) return this.handle(request);
    try {
      return await this.#forwarder.forward(owner, request);
    } catch {
      return errorResponse(
        503,
        new SynclineError('unavailable', 'The node that owns this session did not answer; reconnect.'),
      );
    }
  }

  /** Serves a request for a session this node owns. */
  async handle(request: ForwardedRequest): Promise<ForwardedResponse> {
    const conn = this.#sessions.get(request.session);
    if (!conn) return { status: 404, body: sessionNotFoundBody(request.session) };
    switch (request.kind) {
      case 'send': {
        if (conn.isClosed) return { status: 404, body: sessionNotFoundBody(request.session) };
        const frames = splitFrames(request.body, this.limits, conn.codec);
        if (frames instanceof SynclineError) return errorResponse(400, frames);
        conn.receive(frames);
        return { status: 204, body: '' };
      }
      case 'poll':
        return conn.poll();
      case 'close':
        conn.close(1000, 'closed by client');
        this.remove(conn);
        return { status: 204, body: '' };
    }
  }

  /**
   * Closes every session and stops serving forwarded requests. Closed
   * long-polling sessions stay registered until their next poll picks up the
   * close (or their linger time passes), so `size` tells when all were told.
   */
  closeAll(code: number, reason: string): void {
    this.#detach();
    for (const conn of [...this.#sessions.values()]) conn.close(code, reason);
  }
}

/**
 * Splits a POST body into frames (one per line; a binary codec's frames as
 * base64). Every frame within the frame limit must decode, or the whole body
 * is refused (`bad_frame`) and nothing is delivered. Oversize frames pass
 * through so the core answers them with `frame_too_large` and the request
 * id, as over WebSocket.
 */
export function splitFrames(
  body: string,
  limits: HttpSessionLimits,
  codec: Codec,
): Array<string | Uint8Array> | SynclineError {
  const frames: Array<string | Uint8Array> = [];
  for (const line of body.split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length === 0) continue;
    let frame: string | Uint8Array = text;
    try {
      if (codec.binary) frame = decodeBase64(text);
      const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
      if (bytes <= limits.maxFrameBytes) codec.decode(frame);
    } catch {
      const what = codec.binary ? `base64 ${codec.label}` : codec.label;
      return new SynclineError('bad_frame', `Frame ${frames.length + 1} of the body is not valid ${what}.`);
    }
    frames.push(frame);
  }
  return frames;
}
