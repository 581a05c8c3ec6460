import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CLOSE_CODES, type Codec, codecOfSubprotocol, jsonCodec, subprotocolFor } from '@syncline/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Connection, ConnectionHandler, Transport } from './transport.js';

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
  const n = payload.byteLength;
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
  conn.receiver?.receiveFrame(isBinary ? buf : buf.toString('utf8'), buf.byteLength);
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

  constructor(ws: SynclineSocket, req: IncomingMessage, codec: Codec) {
    this.#ws = ws;
    this.codec = codec;
    this.#socket = req.socket;
    ws.connection = this;
    ws.on('message', onSocketMessage);
    ws.on('close', onSocketClose);
    ws.on('error', onSocketError);
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

  constructor(options: WebSocketTransportOptions, onConnection: ConnectionHandler) {
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.hardMaxFrameBytes,
      perMessageDeflate: false,
      clientTracking: true,
      WebSocket: SynclineSocket,
      handleProtocols: (protocols) => {
        for (const c of options.codecs) if (protocols.has(subprotocolFor(c))) return subprotocolFor(c);
        return false;
      },
    });
    const fallback = options.codecs[0] ?? jsonCodec;
    this.#wss.on('connection', (ws: SynclineSocket, req: IncomingMessage) => {
      onConnection(new WebSocketConnection(ws, req, codecOfSubprotocol(ws.protocol) ?? fallback), req);
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.#options.path) return false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
    return true;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.close(CLOSE_CODES.SHUTDOWN.code, 'server closing');
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    for (const ws of this.#wss.clients) ws.terminate();
  }
}
