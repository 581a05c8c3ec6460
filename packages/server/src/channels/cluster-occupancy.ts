import type { Logger } from 'pino';
import type { ChannelOccupancy } from './register-channels.js';

/** A cluster-wide change of a channel's occupancy. */
export type OccupancyChange = 'occupied' | 'vacated';

/**
 * Which nodes have local subscribers of each channel, shared by every node
 * of a cluster, with node liveness.
 *
 * Contract:
 * - `set` records whether `node` has local subscribers of `channel`, in one
 *   atomic step, and resolves with the cluster-wide change it made:
 *   `occupied` when the channel had no node before, `vacated` when `node`
 *   was the last one. Setting what is already recorded changes nothing. So
 *   each change is reported to exactly one caller.
 * - `heartbeat` marks the node alive and resolves `false` when it was not
 *   recorded alive (first heartbeat, or silent past the TTL: others may have
 *   removed its channels, which it should then set again).
 * - `expire` removes the channels of nodes silent for longer than
 *   `nodeTtlMs` (never those of a node that heartbeated meanwhile) and
 *   resolves with the channels its removals vacated: each vacated by exactly
 *   one caller over every node.
 * - `reset` removes every channel recorded for `node` (a node starting under
 *   the id of an earlier process) and resolves with the channels vacated.
 */
export interface OccupancyStore {
  set(channel: string, node: string, present: boolean): Promise<OccupancyChange | undefined>;
  heartbeat(node: string, now: number): Promise<boolean>;
  expire(now: number, nodeTtlMs: number): Promise<string[]>;
  reset(node: string): Promise<string[]>;
  /** How often a node heartbeats (ms). */
  readonly heartbeatMs: number;
  /** A node silent this long loses its channels (ms). */
  readonly nodeTtlMs: number;
}

/** Logs a store failure at most this often. */
const WARN_EVERY_MS = 5_000;

/**
 * Cluster-wide occupancy over the node's local one: a channel is reported
 * occupied when the first node of the cluster gets a subscriber and vacated
 * when the last node's last subscriber is gone (or the last node holding it
 * died and a surviving node expired it). Each change is reported by exactly
 * one node. The local changes of a channel reach the store one at a time,
 * each carrying the channel's current local state, so the store converges
 * to it; a failed write is retried at the next heartbeat.
 */
export class ClusterOccupancy implements ChannelOccupancy {
  readonly #store: OccupancyStore;
  readonly #node: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<(channel: string, occupied: boolean) => void>();
  /** Channels with local subscribers. */
  readonly #present = new Set<string>();
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Channels whose last write failed. */
  readonly #dirty = new Set<string>();
  readonly #detach: () => void;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #lastWarn = 0;
  #closed = false;
  /** Since when this node has heartbeated without a gap (undefined: not yet). */
  #aliveSince: number | undefined;

  constructor(local: ChannelOccupancy, store: OccupancyStore, node: string, logger: Logger) {
    this.#store = store;
    this.#node = node;
    this.#logger = logger;
    this.#detach = local.onOccupancy((channel, occupied) => {
      if (occupied) this.#present.add(channel);
      else this.#present.delete(channel);
      this.#sync(channel);
    });
  }

  onOccupancy(listener: (channel: string, occupied: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops what an earlier process under this node id left, then heartbeats every `heartbeatMs`. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#ticking = this.#store
      .reset(this.#node)
      .then(
        (vacated) => {
          this.#emitAll(vacated, false);
          // A subscribe of this process may have raced the reset: its channels are set again.
          for (const channel of this.#present) this.#sync(channel);
        },
        (err: unknown) => this.#warn(err),
      )
      .then(() => this.#heartbeat())
      .finally(() => {
        this.#ticking = undefined;
      });
    this.#timer = setInterval(() => this.#tick(), this.#store.heartbeatMs);
    this.#timer.unref();
  }

  #tick(): void {
    if (this.#ticking || this.#closed) return;
    this.#ticking = this.#heartbeat().finally(() => {
      this.#ticking = undefined;
    });
  }

  async #heartbeat(): Promise<void> {
    try {
      const now = Date.now();
      const ttl = this.#store.nodeTtlMs;
      const alive = await this.#store.heartbeat(this.#node, now);
      // Not recorded alive: others may have expired this node's channels.
      if (!alive) for (const c of this.#present) this.#dirty.add(c);
      if (!alive || this.#aliveSince === undefined) this.#aliveSince = now;
      for (const channel of [...this.#dirty]) this.#sync(channel);
      // A node back from a gap (Redis unreachable for all, say) judges others only once they had a TTL to come back too.
      if (now - this.#aliveSince >= ttl) this.#emitAll(await this.#store.expire(now, ttl), false);
    } catch (err) {
      this.#warn(err);
    }
  }

  /** Writes the channel's local state; one write per channel at a time, again while it changed meanwhile. */
  #sync(channel: string): void {
    if (this.#inflight.has(channel)) {
      this.#again.add(channel);
      return;
    }
    this.#dirty.delete(channel);
    const run = async (): Promise<void> => {
      try {
        do {
          this.#again.delete(channel);
          const change = await this.#store.set(channel, this.#node, this.#present.has(channel));
          if (change !== undefined) this.#emitAll([channel], change === 'occupied');
        } while (this.#again.has(channel));
      } catch (err) {
        this.#dirty.add(channel);
        this.#warn(err);
      } finally {
        // In the step that saw no change pending: a later change starts a new write.
        this.#inflight.delete(channel);
      }
    };
    this.#inflight.set(channel, run());
  }

  #emitAll(channels: readonly string[], occupied: boolean): void {
    for (const channel of channels) {
      for (const listener of this.#listeners) {
        try {
          listener(channel, occupied);
        } catch (err) {
          this.#logger.error({ err, channel }, 'occupancy listener failed');
        }
      }
    }
  }

  #warn(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarn < WARN_EVERY_MS) return;
    this.#lastWarn = now;
    this.#logger.warn({ err }, 'cluster channel occupancy could not be written (retried at the next heartbeat)');
  }

  /**
   * Stops heartbeating after the writes in flight (the vacates of the node's
   * closing sessions). Channels left recorded (a failed write) are expired by
   * another node once this one is silent for `nodeTtlMs`.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.values()]);
    this.#detach();
  }
}
