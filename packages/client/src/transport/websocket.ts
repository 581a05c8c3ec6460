import { handshakeSubprotocolFor, handshakeSubprotocols, subprotocolFor } from '@syncline/protocol';
import type { ClientFrame, ClientTransport, TransportFactory } from './transport.js';

/** Minimal WebSocket surface shared by browsers and the `ws` package. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  /** Set to `arraybuffer`: binary frames arrive as `ArrayBuffer` (browsers) or are converted (`ws`). */
  binaryType?: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor (browser global or `ws`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Path of the server's WebSocket endpoint. */
export const WEBSOCKET_PATH = '/connect/ws';

let wsImport: Promise<WebSocketConstructor> | undefined;

/** The global WebSocket, or the `ws` package in Node. */
export function defaultWebSocket(): Promise<WebSocketConstructor> {
  const g = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (g) return Promise.resolve(g);
  const name = 'ws';
  wsImport ??= import(/* @vite-ignore */ name).then((m: { WebSocket: WebSocketConstructor }) => m.WebSocket);
  return wsImport;
}

/** Turns an http(s)/ws(s) base URL into the WebSocket endpoint URL. */
export function websocketUrl(base: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = WEBSOCKET_PATH;
  return u.toString();
}

/** A received message's data as a frame: text as is, binary (`ArrayBuffer`, `Buffer`, views) as bytes. */
function frameOf(data: unknown): ClientFrame {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) {
    // `ws` may hand fragments as a list of buffers.
    const parts = data.map((d) => frameOf(d)).filter((d): d is Uint8Array => typeof d !== 'string');
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
  return String(data);
}

/** Creates the WebSocket transport factory. */
export function websocketTransport(ctor?: WebSocketConstructor): TransportFactory {
  return async (baseUrl, events, codec, connect): Promise<ClientTransport> => {
    const Ctor = ctor ?? (await defaultWebSocket());
    // The handshake connect: `connect` rides in the upgrade request; a server
    // that takes it selects the `.connect` subprotocol, an older one the plain.
    const protocols = (connect && handshakeSubprotocols(codec, connect)) ?? [subprotocolFor(codec)];
    const ws = new Ctor(websocketUrl(baseUrl), protocols);
    ws.binaryType = 'arraybuffer';
    let closed = false;
    const finish = (code: number, reason: string): void => {
      if (closed) return;
      closed = true;
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Closing a socket that is still connecting reports an error afterwards; keep a listener for it.
      ws.onerror = () => undefined;
      events.onClose(code, reason);
    };
    ws.onopen = () => events.onOpen(protocols.length > 1 && ws.protocol === handshakeSubprotocolFor(codec));
    ws.onmessage = (ev) => {
      if (closed) return;
      events.onFrame(frameOf(ev.data));
    };
    ws.onclose = (ev) => finish(ev.code, ev.reason);
    ws.onerror = () => {
      // 'close' follows an error; it carries the code.
    };
    return {
      name: 'websocket',
      send(frame) {
        if (!closed && ws.readyState === 1) ws.send(frame);
      },
      close(code, reason) {
        if (closed) return;
        try {
          ws.close(code, reason);
        } catch {
          // Already closing.
        }
        finish(code, reason);
      },
    };
  };
}
