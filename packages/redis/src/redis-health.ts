import {
  type BackendHealth,
  type HealthListener,
  type HealthReporter,
  HealthSignal,
  startHealthProbe,
} from '@syncline/server';
import { isCluster, type RedisClient } from './redis-connections.js';

/** Options of `RedisHealth`. */
export interface RedisHealthOptions {
  /** How often Redis is PINGed (default `HEALTH_PROBE_INTERVAL_MS`). */
  readonly pingIntervalMs?: number | undefined;
  /** Longest a PING may take before Redis counts as down (default `HEALTH_PROBE_TIMEOUT_MS`). */
  readonly pingTimeoutMs?: number | undefined;
  /** Receives what a health listener threw. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Health of a node's Redis connections (`HealthReporter`): down as soon as
 * one connection closes, ends or reconnects, or a PING on the first one goes
 * unanswered past `pingTimeoutMs` (a Redis that keeps the socket open but
 * does not answer: `CLIENT PAUSE`, a stopped process, a black-holed
 * network); up again once a PING answered with every connection ready. On
 * a Redis Cluster the PING goes to every master and any answer will do.
 */
export class RedisHealth implements HealthReporter {
  readonly #signal: HealthSignal;
  readonly #connections: ReadonlyArray<readonly [string, RedisClient]>;
  readonly #options: RedisHealthOptions;
  #stop: (() => void) | undefined;

  /** Watches `connections` (named for the log); the first one carries the PINGs. */
  constructor(connections: ReadonlyArray<readonly [string, RedisClient]>, options: RedisHealthOptions = {}) {
    this.#connections = connections;
    this.#options = options;
    this.#signal = new HealthSignal(options.onError);
    for (const [name, conn] of connections) {
      conn.on('close', () => this.#signal.set(false, `${name} connection closed`));
      conn.on('end', () => this.#signal.set(false, `${name} connection ended`));
      conn.on('reconnecting', () => this.#signal.set(false, `${name} connection reconnecting`));
    }
  }

  /** Starts the PINGs (once the connections are up). */
  start(): void {
    const first = this.#connections[0]?.[1];
    if (this.#stop || !first) return;
    const { pingIntervalMs, pingTimeoutMs } = this.#options;
    this.#stop = startHealthProbe({
      // On a Redis Cluster, up while any master answers: a failed shard shows
      // as failed commands on its channels while it fails over, not as the
      // whole node down (a PING sent to a random node would flap).
      probe: () => (isCluster(first) ? Promise.any(first.nodes('master').map((n) => n.ping())) : first.ping()),
      onResult: (err) => {
        if (err !== undefined) {
          this.#signal.set(false, `PING failed: ${err instanceof Error ? err.message : String(err)}`);
        } else if (this.#connections.every(([, c]) => c.status === 'ready')) {
          this.#signal.set(true);
        }
      },
      ...(pingIntervalMs === undefined ? {} : { intervalMs: pingIntervalMs }),
      ...(pingTimeoutMs === undefined ? {} : { timeoutMs: pingTimeoutMs }),
    });
  }

  /** Stops the PINGs. */
  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  health(): BackendHealth {
    return this.#signal.health();
  }

  onHealth(listener: HealthListener): () => void {
    return this.#signal.onHealth(listener);
  }
}
