import type { Logger } from 'pino';

/**
 * Per-channel subscriber counts of every node, for the HTTP API's channel
 * list in a cluster. Each node reports its own counts periodically; a node's
 * report expires when it stops reporting (crashed), so dead nodes drop out.
 *
 * Contract:
 * - `report` replaces the node's previous counts as one step (a reader sees
 *   the old or the new map, never a mix) and keeps them for `ttlMs`.
 * - `totals` sums the unexpired reports of all nodes; it may be up to one
 *   report interval behind.
 * - `remove` drops the node's report (on a clean shutdown).
 */
export interface ChannelCountsStore {
  report(node: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<void>;
  totals(): Promise<Map<string, number>>;
  remove(node: string): Promise<void>;
  /** How often a node reports (ms); its reports live three times as long. */
  readonly reportIntervalMs: number;
}

/**
 * Reports this node's counts to a `ChannelCountsStore` on a timer and answers
 * cluster totals in which this node's share is its live count (not its last
 * report).
 */
export class ChannelCountsReporter {
  readonly #store: ChannelCountsStore;
  readonly #node: string;
  readonly #local: () => Map<string, number>;
  readonly #logger: Logger;
  #reported: ReadonlyMap<string, number> = new Map();
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;

  constructor(store: ChannelCountsStore, node: string, local: () => Map<string, number>, logger: Logger) {
    this.#store = store;
    this.#node = node;
    this.#local = local;
    this.#logger = logger;
  }

  /** Reports now and then every `reportIntervalMs`. */
  start(): void {
    if (this.#timer) return;
    this.#report();
    this.#timer = setInterval(() => this.#report(), this.#store.reportIntervalMs);
    this.#timer.unref();
  }

  #report(): void {
    if (this.#inflight) return;
    const counts = this.#local();
    this.#inflight = this.#store
      .report(this.#node, counts, this.#store.reportIntervalMs * 3)
      .then(() => {
        this.#reported = counts;
      })
      .catch((err: unknown) => this.#logger.warn({ err }, 'channel counts could not be reported'))
      .finally(() => {
        this.#inflight = undefined;
      });
  }

  /** Subscriber counts per channel over every live node. */
  async totals(): Promise<Map<string, number>> {
    const all = await this.#store.totals();
    for (const [channel, n] of this.#reported) {
      const left = (all.get(channel) ?? 0) - n;
      if (left > 0) all.set(channel, left);
      else all.delete(channel);
    }
    for (const [channel, n] of this.#local()) all.set(channel, (all.get(channel) ?? 0) + n);
    return all;
  }

  /** Stops reporting and drops this node's report. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inflight;
    await this.#store.remove(this.#node).catch((err: unknown) => {
      this.#logger.warn({ err }, 'channel counts could not be removed');
    });
  }
}
