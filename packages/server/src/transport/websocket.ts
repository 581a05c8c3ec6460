import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CLOSE_CODES } from '@syncline/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Connection, ConnectionHandler, Transport } from './transport.js';

/** Options of the WebSocket transport. */
export interface WebSocketTransportOptions {
  /** URL path that accepts upgrades. */
  readonly path: string;
  /** Frames above `maxFrameBytes` get an error reply; frames above this hard cap close the socket (1009). */
  readonly hardMaxFrameBytes: number;
  /** Subprotocols accepted, first match wins (`syncline.json`). */
  readonly subprotocols: readonly string[];
}

/** `ws` send options of a text frame given as bytes. */
const TEXT_FRAME = { binary: false } as const;

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
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  conn.receiver?.receiveFrame(isBinary ? new Uint8Array(buf) : buf.toString('utf8'), buf.byteLength);
}

function onSocketClose(this: SynclineSocket, code: number, reason: Buffer): void {
  this.connection?.peerClosed(code, reason.toString());
}

function onSocketError(): void {
  // A socket error is followed by 'close'; nothing else to do here.
}

class WebSocketConnection implements Connection {
  readonly transport = 'websocket';
  receiver: Connection['receiver'];
  readonly #ws: SynclineSocket;
  /** Read on demand: asking the socket early makes it keep its peer address per connection. */
  readonly #socket: Socket;
  #closed = false;

  constructor(ws: SynclineSocket, req: IncomingMessage) {
    this.#ws = ws;
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

  sendUtf8(frame: Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(frame, TEXT_FRAME);
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
        for (const p of options.subprotocols) if (protocols.has(p)) return p;
        return false;
      },
    });
    this.#wss.on('connection', (ws: SynclineSocket, req: IncomingMessage) => {
      onConnection(new WebSocketConnection(ws, req), req);
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
