import type { Server } from 'node:http';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import type { Logger } from 'pino';
import { DEFAULT_DRAIN_WINDOW_MS, type DrainOptions, drainSessions } from './ops/drain.js';
import type { Session } from './session/session.js';
import type { Transport } from './transport/transport.js';

/** What starting and stopping a node needs. */
export interface ServerLifecycleDeps {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly httpServer: Server;
  readonly transports: readonly Transport[];
  readonly sessions: ReadonlySet<Session>;
  /** Host to listen on (all interfaces when undefined) and port (0: any free one). */
  readonly host: string | undefined;
  readonly port: number;
  /** Runs before the node listens (loads what admission needs). */
  readonly beforeListen: () => Promise<void>;
  /** Runs once the node listens. */
  readonly onListening: () => void;
  /** Stops the node's timers and probes; runs first when closing. */
  readonly stopTimers: () => void;
  /** Closes features and backends, in order; runs last when closing, once connections are closed. */
  readonly closeServices: () => Promise<void>;
}

/**
 * A node's life: listening, draining, closing. `ready` is true from the
 * moment it listens until it starts closing; `refusing` (draining or closing)
 * makes admission refuse new connections. `close` closes every session with
 * `SHUTDOWN`, then the transports, the HTTP server and the services; a second
 * call while a close is under way returns at once.
 */
export class ServerLifecycle {
  readonly #deps: ServerLifecycleDeps;
  #closing = false;
  #ready = false;
  #draining = false;
  #port = 0;
  #url = '';

  constructor(deps: ServerLifecycleDeps) {
    this.#deps = deps;
  }

  /** Base URL once listening (empty before). */
  get url(): string {
    return this.#url;
  }

  /** Port once listening (0 before). */
  get port(): number {
    return this.#port;
  }

  /** Listening and not closing. */
  get ready(): boolean {
    return this.#ready;
  }

  /** `close` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** `drain` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Whether new connections are refused (draining or closing). */
  get refusing(): boolean {
    return this.#closing || this.#draining;
  }

  /** Starts listening; resolves with the port and base URL, rejects with the HTTP server's error. */
  async listen(): Promise<{ port: number; url: string }> {
    const { httpServer, host, logger, nodeId } = this.#deps;
    await this.#deps.beforeListen();
    return new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      const onListening = (): void => {
        httpServer.off('error', reject);
        const addr = httpServer.address();
        this.#port = typeof addr === 'object' && addr ? addr.port : 0;
        const h = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
        this.#url = `http://${h.includes(':') ? `[${h}]` : h}:${this.#port}`;
        this.#ready = true;
        this.#deps.onListening();
        logger.info({ port: this.#port, node: nodeId, protocol: PROTOCOL_VERSION }, 'syncline listening');
        resolve({ port: this.#port, url: this.#url });
      };
      if (host) httpServer.listen(this.#deps.port, host, onListening);
      else httpServer.listen(this.#deps.port, onListening);
    });
  }

  /** Refuses new connections and moves the open ones away over the drain window. */
  async drain(options: DrainOptions = {}): Promise<void> {
    const { sessions, logger, nodeId } = this.#deps;
    this.#draining = true;
    const windowMs = options.windowMs ?? DEFAULT_DRAIN_WINDOW_MS;
    logger.info({ node: nodeId, connections: sessions.size, windowMs }, 'draining');
    await drainSessions(sessions, windowMs);
  }

  /** Closes the node (see the class contract). */
  async close(): Promise<void> {
    if (this.#closing && !this.#ready) return;
    const { httpServer, sessions, transports } = this.#deps;
    this.#closing = true;
    this.#ready = false;
    this.#deps.stopTimers();
    for (const s of [...sessions]) s.close('SHUTDOWN', 'server closing', 0);
    await Promise.all(transports.map((t) => t.close()));
    await new Promise<void>((resolve) => {
      if (!httpServer.listening) resolve();
      else httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
    await this.#deps.closeServices();
  }
}
