/** Callbacks a client transport reports to. */
export interface ClientTransportEvents {
  onOpen(): void;
  onFrame(frame: string): void;
  onClose(code: number, reason: string): void;
}

/** One connection attempt over some transport (WebSocket, SSE, long-polling). */
export interface ClientTransport {
  readonly name: string;
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** Opens a transport to a server base URL. */
export type TransportFactory = (baseUrl: string, events: ClientTransportEvents) => Promise<ClientTransport>;
