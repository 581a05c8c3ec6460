/** Called for every publication a connection receives. */
export type PubHandler = (channel: string, data: unknown, recovered: boolean) => void;

/** The systems compared in one run. */
export const TARGETS = ['syncline', 'ws', 'socketio'] as const;
/** One of `TARGETS`. */
export type Target = (typeof TARGETS)[number];

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
