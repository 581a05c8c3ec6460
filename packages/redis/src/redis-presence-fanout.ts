import type { PresenceChange, PresenceFanout } from '@syncline/server';
import type { BusListener, PubSubBus } from './pubsub-bus.js';
import { BROKER_READ_TIMEOUT_MS } from './redis-broker.js';

/**
 * Carries presence changes between nodes over Redis pub/sub, one bus channel
 * per presence channel (a node listens only to channels it has watchers of).
 * Changes of a channel reach a node in `seq` order (Redis keeps publish
 * order); a change older than the last delivered one is dropped.
 *
 * Changes published while this node's subscriber connection is down are lost
 * to it (Redis pub/sub does not replay). When the connection is back, the
 * fanout renews its subscriptions (`PubSubBus.renew`: changes published
 * between its unsubscribe and subscribe are covered by what follows) and
 * then calls the `onResync` listeners, so the server re-reads the lists of
 * its watched channels.
 */
export class RedisPresenceFanout implements PresenceFanout {
  readonly #bus: PubSubBus;
  readonly #prefix: string;
  readonly #onError: (err: unknown) => void;
  readonly #lastSeq = new Map<string, number>();
  readonly #handlers = new Map<string, BusListener>();
  readonly #resync = new Set<() => void>();

  constructor(bus: PubSubBus, options: { prefix?: string; onError?: (err: unknown) => void } = {}) {
    this.#bus = bus;
    this.#prefix = `${options.prefix ?? 'syncline:'}pp:`;
    this.#onError = options.onError ?? (() => undefined);
    bus.onReconnected(() => {
      void this.#resubscribed();
    });
  }

  /** Waits until every subscription is active again, then tells the resync listeners. */
  async #resubscribed(): Promise<void> {
    const results = await Promise.allSettled(
      [...this.#handlers.keys()].map((channel) => this.#bus.renew(this.#prefix + channel)),
    );
    for (const r of results) if (r.status === 'rejected') this.#onError(r.reason);
    for (const fn of this.#resync) {
      try {
        fn();
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  publish(change: PresenceChange): void {
    this.#bus.publish(this.#prefix + change.channel, JSON.stringify(change)).catch(this.#onError);
  }

  async subscribe(channel: string, listener: (change: PresenceChange) => void): Promise<void> {
    this.#lastSeq.set(channel, 0);
    const handler: BusListener = (payload) => {
      const change = JSON.parse(payload) as PresenceChange;
      const last = this.#lastSeq.get(channel);
      if (last === undefined || change.seq <= last) return;
      this.#lastSeq.set(channel, change.seq);
      listener(change);
    };
    this.#handlers.set(channel, handler);
    try {
      // Bounded: a watcher is answered `unavailable` rather than left waiting for Redis.
      await this.#bus.subscribe(this.#prefix + channel, handler, { timeoutMs: BROKER_READ_TIMEOUT_MS });
    } catch (err) {
      if (this.#handlers.get(channel) === handler) this.#handlers.delete(channel);
      throw err;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#lastSeq.delete(channel);
    this.#handlers.delete(channel);
    await this.#bus.unsubscribe(this.#prefix + channel);
  }

  onResync(listener: () => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }
}
