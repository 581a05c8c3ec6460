import type { RedisClient } from './redis-connections.js';

/** Work after a reconnect or topology change runs this long after its last sign… */
export const RECONNECT_QUIET_MS = 200;
/** …and at the latest this long after the first one. */
export const RECONNECT_MAX_WAIT_MS = 1_000;

/**
 * Runs a task once a burst of events is over: `quietMs` after the last
 * `poke`, and at the latest `maxWaitMs` after the first poke of the burst.
 * A cluster client reports one topology change as a burst of events (one per
 * attempt while a failed master is retried, one per slot map it reads); the
 * work each event calls for (read back what the node missed) is done once
 * per burst, after the client's own resubscribe commands have reached Redis.
 */
export class QuietTimer {
  readonly #task: () => void;
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the current burst's first poke came (0: no burst). */
  #burstStart = 0;

  constructor(task: () => void, quietMs: number, maxWaitMs: number) {
    this.#task = task;
    this.#quietMs = quietMs;
    this.#maxWaitMs = maxWaitMs;
  }

  /** An event of the burst: (re)arms the timer. */
  poke(): void {
    const now = Date.now();
    if (this.#burstStart === 0) this.#burstStart = now;
    clearTimeout(this.#timer);
    const delay = Math.max(0, Math.min(this.#quietMs, this.#burstStart + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => this.#fire(), delay);
    this.#timer.unref();
  }

  /** Drops a pending run. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#burstStart = 0;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#burstStart = 0;
    this.#task();
  }
}

/**
 * Runs `task` once per burst of resubscribes of a subscriber connection
 * (not at its first connect): on a Redis Cluster after the sharded
 * subscribers were rebuilt (a master failed over, slots moved, a subscriber
 * connection was lost), on one Redis after the connection came back. Returns
 * the timer (`cancel` it on close).
 */
export function afterResubscribes(sub: RedisClient, task: () => void): QuietTimer {
  const timer = new QuietTimer(task, RECONNECT_QUIET_MS, RECONNECT_MAX_WAIT_MS);
  let wasReady = false;
  if (sub.isCluster) {
    sub.on('subscribersReady', () => {
      if (wasReady) timer.poke();
    });
    sub.on('ready', () => {
      wasReady = true;
    });
  } else {
    sub.on('ready', () => {
      if (wasReady) timer.poke();
      wasReady = true;
    });
  }
  return timer;
}
