import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CLOSE_CODES,
  type Codec,
  codecOfSubprotocol,
  HANDSHAKE_COMMAND_PREFIX,
  handshakeSubprotocolFor,
  jsonCodec,
  MAX_HANDSHAKE_CONNECT_CHARS,
  SynclineError,
  subprotocolFor,
} from '@syncline/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Connection, ConnectionHandler, OpeningCommand, Transport } from './transport.js';

/** Options of the WebSocket transport. */
export interface WebSocketTransportOptions {
  /** URL path that accepts upgrades. */
  readonly path: string;
  /** Frames above `maxFrameBytes` get an error reply; frames above this hard cap close the socket (1009). */
  readonly hardMaxFrameBytes: number;
  /**
   * Codecs accepted, in the server's order of preference: the first whose
   * subprotocol (`syncline.json`, `syncline.msgpack`) the client offers wins.
   * A client that offers no Syncline subprotocol speaks the first codec.
   */
  readonly codecs: readonly Codec[];
  /**
   * Whether a client may carry its `connect` in the upgrade request (the
   * handshake connect, see `HANDSHAKE_COMMAND_PREFIX`); default true. Off,
   * the `.connect` subprotocols are never selected and clients send a
   * `connect` frame.
   */
  readonly handshakeConnect?: boolean;
}

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

/**
 * The `connect` carried in a `syncline.c.…` subprotocol entry, decoded; or
 * the error it is refused with. The length is checked first: nothing of an
 * oversized entry is decoded.
 */
function openingOf(entry: string): OpeningCommand {
  const encoded = entry.slice(HANDSHAKE_COMMAND_PREFIX.length);
  if (encoded.length > MAX_HANDSHAKE_CONNECT_CHARS) {
    return {
      error: new SynclineError(
        'frame_too_large',
        `The handshake connect of ${encoded.length} characters exceeds the limit of ${MAX_HANDSHAKE_CONNECT_CHARS}.`,
        { details: { limit: MAX_HANDSHAKE_CONNECT_CHARS } },
      ),
    };
  }
  if (encoded.length % 4 === 1 || !BASE64URL_RE.test(encoded)) {
    return { error: new SynclineError('bad_frame', 'The handshake connect is not base64url.') };
  }
  const bytes = Buffer.from(encoded, 'base64url');
  const text = bytes.toString('utf8');
  let command: unknown;
  try {
    command = JSON.parse(text);
  } catch {
    return { error: new SynclineError('bad_frame', 'The handshake connect is not valid JSON.') };
  }
  if (typeof command !== 'object' || command === null || Array.isArray(command)) {
    return { error: new SynclineError('bad_frame', 'The handshake connect is not a JSON object.') };
  }
  return { command, bytes: bytes.byteLength, textLength: text.length };
}

/** Writes the upgrade response if the opening command was not answered by now (an asynchronous verifier). */
function uncorkOpening(conn: WebSocketConnection): void {
  conn.openingAnswered();
}

/** The last frame built by `wireFrame`, and the payload it carries. */
let lastPayload: Uint8Array | undefined;
let lastFrame: Buffer = Buffer.alloc(0);

/**
 * A complete server-to-client frame (final, unmasked; RFC 6455 §5.2), text
 * or binary, carrying `payload`. During a fan-out every connection is handed
 * the same payload bytes, so the frame is built once and the same buffer is
 * written to every socket: one `write` per connection, no header or write
 * request built per connection.
 */
function wireFrame(payload: Uint8Array, binary: boolean): Buffer {
  if (payload === lastPayload && (lastFrame[0] === 0x82) === binary) return lastFrame;
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = binary ? 0x82 : 0x81;
  if (head === 2) frame[1] = n;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  frame.set(payload, head);
  lastPayload = payload;
  lastFrame = frame;
  return frame;
}

/**
 * The `ws` socket class of this transport: it points back to its connection,
 * so one set of listeners serves every socket (no closures per connection).
 */
class SynclineSocket extends WebSocket {
  connection?: WebSocketConnection;
}

function onSocketMessage(this: SynclineSocket, data: RawData, isBinary: boolean): void {
  const conn = this.connection;
  if (conn === undefined || conn.closed) return;
  // `ws` hands a Buffer of its own (binaryType 'nodebuffer'), kept by no one else: used as is.
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  conn.receiver?.receiveFrame(isBinary ? buf : buf.toString('utf8'), buf.length);
}

function onSocketClose(this: SynclineSocket, code: number, reason: Buffer): void {
  this.connection?.peerClosed(code, reason.toString());
}

function onSocketError(): void {
  // A socket error is followed by 'close'; nothing else to do here.
}

class WebSocketConnection implements Connection {
  readonly transport = 'websocket';
  readonly codec: Codec;
  receiver: Connection['receiver'];
  readonly #ws: SynclineSocket;
  /** Read on demand: asking the socket early makes it keep its peer address per connection. */
  readonly #socket: Socket;
  #closed = false;
  #opening: OpeningCommand | undefined;
  /** The socket is corked, holding the upgrade response until the opening command is answered. */
  #corked: boolean;

  constructor(ws: SynclineSocket, req: IncomingMessage, codec: Codec, opening: OpeningCommand | undefined) {
    this.#ws = ws;
    this.codec = codec;
    this.#socket = req.socket;
    this.#opening = opening;
    this.#corked = opening !== undefined;
    if (opening !== undefined) setImmediate(uncorkOpening, this);
    ws.connection = this;
    ws.on('message', onSocketMessage);
    ws.on('close', onSocketClose);
    ws.on('error', onSocketError);
  }

  takeOpening(): OpeningCommand | undefined {
    const opening = this.#opening;
    this.#opening = undefined;
    return opening;
  }

  /** Writes the upgrade response and the opening command's reply, held since the upgrade, in one write. */
  openingAnswered(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  /** True once either side closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The socket closed (peer, network or the end of our close handshake). */
  peerClosed(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.receiver?.connectionClosed(code, reason);
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(frame: string | Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(frame);
  }

  sendBytes(frame: Uint8Array, binary: boolean): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    // Written straight to the socket `ws` writes to: without permessage-deflate
    // `ws` queues nothing itself, so frames keep their order with its own
    // (pings, pongs, close), and `bufferedAmount` still counts them.
    this.#socket.write(wireFrame(frame, binary));
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#ws.close(code, reason.slice(0, 120));
    } catch {
      this.#ws.terminate();
    }
    // A peer that never answers the close handshake is cut after a while.
    const timer = setTimeout(() => this.#ws.terminate(), 5_000);
    timer.unref();
    this.#ws.once('close', () => clearTimeout(timer));
    this.receiver?.connectionClosed(code, reason);
  }
}

/** WebSocket transport on the `ws` library. */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket';
  readonly #wss: WebSocketServer;
  readonly #options: WebSocketTransportOptions;
  /** Subprotocols by codec, in the server's order: the plain one and the handshake connect's. */
  readonly #subprotocols: ReadonlyArray<{ readonly plain: string; readonly connect: string }>;
  /** Takes a completed upgrade (one function for every upgrade: no closure per connection). */
  readonly #upgraded: (ws: SynclineSocket, req: IncomingMessage) => void;
  /** The opening command of the upgrade being completed (set while `ws` selects the subprotocol). */
  #opening: OpeningCommand | undefined;

  constructor(options: WebSocketTransportOptions, onConnection: ConnectionHandler) {
    this.#options = options;
    this.#subprotocols = options.codecs.map((c) => ({ plain: subprotocolFor(c), connect: handshakeSubprotocolFor(c) }));
    const handshakeConnect = options.handshakeConnect ?? true;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.hardMaxFrameBytes,
      perMessageDeflate: false,
      clientTracking: true,
      WebSocket: SynclineSocket,
      handleProtocols: (protocols, req) =>
        handshakeConnect && protocols.size > 2 ? this.#selectWithOpening(protocols, req) : this.#select(protocols),
    });
    const fallback = options.codecs[0] ?? jsonCodec;
    this.#upgraded = (ws, req) => {
      const opening = this.#opening;
      this.#opening = undefined;
      onConnection(new WebSocketConnection(ws, req, codecOfSubprotocol(ws.protocol) ?? fallback, opening), req);
    };
  }

  /** The first plain subprotocol of the server's codecs the client offers. */
  #select(protocols: Set<string>): string | false {
    for (const p of this.#subprotocols) if (protocols.has(p.plain)) return p.plain;
    return false;
  }

  /**
   * Selects the handshake connect's subprotocol when the client offers it
   * with exactly one `syncline.c.` entry for one of the server's codecs (an
   * entry that is invalid, or several, still select it: the session answers
   * with the error and closes). The socket is corked until the session has
   * answered the carried `connect`, so the upgrade response and the reply
   * leave in one write.
   */
  #selectWithOpening(protocols: Set<string>, req: IncomingMessage): string | false {
    let carried: string | undefined;
    let several = false;
    for (const p of protocols) {
      if (!p.startsWith(HANDSHAKE_COMMAND_PREFIX)) continue;
      if (carried !== undefined) several = true;
      carried = p;
    }
    if (carried === undefined) return this.#select(protocols);
    for (const p of this.#subprotocols) {
      if (protocols.has(p.connect)) {
        this.#opening = several
          ? { error: new SynclineError('bad_frame', 'The handshake may carry one connect only.') }
          : openingOf(carried);
        req.socket.cork();
        return p.connect;
      }
      if (protocols.has(p.plain)) return p.plain;
    }
    return false;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.#options.path) return false;
    this.#opening = undefined;
    this.#wss.handleUpgrade(req, socket, head, this.#upgraded);
    return true;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.close(CLOSE_CODES.SHUTDOWN.code, 'server closing');
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    for (const ws of this.#wss.clients) ws.terminate();
  }
}
