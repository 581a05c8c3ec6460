import type { Codec, CommandOf } from '@syncline/protocol';

/** One frame: text for a text codec (JSON), bytes for a binary one (MessagePack). */
export type ClientFrame = string | Uint8Array;

/** Callbacks a client transport reports to. */
export interface ClientTransportEvents {
  /**
   * The transport is open. `carried` is true when the server took the
   * `connect` handed to the factory (the WebSocket handshake connect): its
   * reply comes without a `connect` frame. Otherwise the client sends one.
   */
  onOpen(carried?: boolean): void;
  onFrame(frame: ClientFrame): void;
  onClose(code: number, reason: string): void;
}

/** One connection attempt over some transport (WebSocket, SSE, long-polling). */
export interface ClientTransport {
  readonly name: string;
  send(frame: ClientFrame): void;
  close(code: number, reason: string): void;
}

/**
 * Opens a transport to a server base URL, carrying frames of `codec` (the
 * client's wire format: a transport negotiates it with the server, e.g. as
 * the WebSocket subprotocol). A transport that can carries `connect` in its
 * opening request (the WebSocket transport, docs/protocol.md) and reports
 * whether the server took it (`onOpen(true)`); others ignore it.
 */
export type TransportFactory = (
  baseUrl: string,
  events: ClientTransportEvents,
  codec: Codec,
  connect?: CommandOf<'connect'>,
) => Promise<ClientTransport>;
