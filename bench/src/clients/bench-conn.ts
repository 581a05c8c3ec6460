/** Called for every publication a connection receives. */
export type PubHandler = (channel: string, data: unknown, recovered: boolean) => void;

/**
 * The systems compared in one run. `syncline` and `syncline-msgpack` are the
 * same server; their clients speak the JSON and the MessagePack codec.
 */
export const TARGETS = ['syncline', 'syncline-msgpack', 'ws', 'socketio'] as const;
/** One of `TARGETS`. */
export type Target = (typeof TARGETS)[number];

/** True for the targets that run the Syncline server. */
export function isSyncline(target: Target): boolean {
  return target === 'syncline' || target === 'syncline-msgpack';
}

/**
 * WebSocket payload bytes received by this process's connections (every
 * frame: publications, replies, acknowledgements, pings), without the
 * WebSocket frame headers. Reset by the load generator at each mark.
 */
export const received = { bytes: 0 };

/**
 * A minimal protocol client for one system under test: just enough to connect,
 * subscribe (recovering from the last known position after a drop), publish
 * with an acknowledgement, and hand every received publication to the tracker.
 * Kept tiny so that the load generator is never the bottleneck.
 */
export interface BenchConn {
  /** Opens the connection and completes the system's handshake. */
  open(): Promise<void>;
  /** Subscribes, recovering from the last position when one is known. */
  subscribe(channel: string): Promise<void>;
  /** Publishes JSON text; resolves when the server acknowledged it. */
  publish(channel: string, json: string): Promise<void>;
  /** Reopens after a drop and restores every subscription with recovery. */
  reopen(): Promise<void>;
  /** Drops the TCP connection without a closing handshake. */
  terminate(): void;
  /** Closes politely. */
  close(): void;
}

/** Request bookkeeping shared by the clients. */
export class Pending {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Allocates an id and a promise settled by `settle`/`fail`. */
  open(): { id: number; done: Promise<unknown> } {
    const id = this.#next++;
    const done = new Promise<unknown>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    return { id, done };
  }

  settle(id: number, value: unknown): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    this.#waiting.delete(id);
    w.resolve(value);
  }

  fail(id: number, err: Error): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    this.#waiting.delete(id);
    w.reject(err);
  }

  /** Rejects everything (connection lost). */
  failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}
