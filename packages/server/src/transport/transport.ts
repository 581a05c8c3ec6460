import type { IncomingMessage } from 'node:http';
import type { Codec, SynclineError } from '@syncline/protocol';

/**
 * A command the client carried in the request that opened its connection
 * (the WebSocket handshake connect), decoded; or why it was refused unread.
 */
export type OpeningCommand =
  | { readonly command: object; readonly bytes: number; readonly textLength: number }
  | { readonly error: SynclineError };

/**
 * One client connection as the core sees it, whatever carries it
 * (WebSocket, SSE + POST, long-polling). The core never touches sockets.
 */
export interface Connection {
  /** Transport name: `websocket`, `sse`, `longpoll`. */
  readonly transport: string;
  /** Remote address, for logs and limits. */
  readonly remoteAddress: string;
  /** The codec negotiated when the connection opened (WebSocket subprotocol, HTTP `codec` parameter). */
  readonly codec: Codec;
  /**
   * Queues one encoded frame for the peer. Frames are delivered in the order
   * sent; a frame sent after `close()` is dropped.
   */
  send(frame: string | Uint8Array): void;
  /**
   * Optional fast path: queues a frame given as bytes (a text frame's UTF-8
   * bytes when `binary` is false), in order with `send`. The bytes may be
   * shared with other connections (one encoding per fan-out); the transport
   * must not modify them.
   */
  sendBytes?(frame: Uint8Array, binary: boolean): void;
  /**
   * Hands over (once; the connection keeps nothing of it) the command
   * carried in the opening request, if any: the session runs it before any
   * frame.
   */
  takeOpening?(): OpeningCommand | undefined;
  /**
   * Called by the session once the opening command is answered and its
   * reply queued on the connection: the transport may now write what it
   * held back (the upgrade response) together with that reply.
   */
  openingAnswered?(): void;
  /** Bytes queued and not yet handed to the kernel; used for slow-consumer detection. */
  readonly bufferedAmount: number;
  /** Closes with a code and reason; the receiver's `connectionClosed` runs once afterwards. */
  close(code: number, reason: string): void;
  /** Receives the connection's frames and its end (the session; one object, no callbacks per connection). */
  receiver: ConnectionReceiver | undefined;
}

/** What a connection reports to: its session. */
export interface ConnectionReceiver {
  /** Called for every frame received, in order. */
  receiveFrame(frame: string | Uint8Array, byteLength: number): void;
  /** Called once when the connection is gone (either side closed it). */
  connectionClosed(code: number, reason: string): void;
}

/** Accepts connections and hands them to the core. */
export interface Transport {
  readonly name: string;
  /**
   * Offers an HTTP upgrade request to the transport. Returns true when the
   * transport took it (it then owns the socket).
   */
  handleUpgrade?(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean;
  /** Stops accepting and closes every connection it carries. */
  close(): Promise<void>;
}

/** Called by a transport for each new connection. */
export type ConnectionHandler = (conn: Connection, req: IncomingMessage) => void;
