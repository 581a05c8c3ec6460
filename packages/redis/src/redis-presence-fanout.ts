import type { PresenceChange, PresenceFanout } from '@syncline/server';
import type { PubSubBus } from './pubsub-bus.js';

/**
 * Carries presence changes between nodes over Redis pub/sub, one bus channel
 * per presence channel (a node listens only to channels it has watchers of).
 * Changes of a channel reach a node in `seq` order (Redis keeps publish
 * order); a change older than the last delivered one is dropped.
 */
export class RedisPresenceFanout implements PresenceFanout {
  readonly #bus: PubSubBus;
  readonly #prefix: string;
  readonly #onError: (err: unknown) => void;
  readonly #lastSeq = new Map<string, number>();

  constructor(bus: PubSubBus, options: { prefix?: string; onError?: (err: unknown) => void } = {}) {
    this.#bus = bus;
    this.#prefix = `${options.prefix ?? 'syncline:'}pp:`;
    this.#onError = options.onError ?? (() => undefined);
  }

  publish(change: PresenceChange): void {
    this.#bus.publish(this.#prefix + change.channel, JSON.stringify(change)).catch(this.#onError);
  }

  async subscribe(channel: string, listener: (change: PresenceChange) => void): Promise<void> {
    this.#lastSeq.set(channel, 0);
    await this.#bus.subscribe(this.#prefix + channel, (payload) => {
      const change = JSON.parse(payload) as PresenceChange;
      const last = this.#lastSeq.get(channel);
      if (last === undefined || change.seq <= last) return;
      this.#lastSeq.set(channel, change.seq);
      listener(change);
    });
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#lastSeq.delete(channel);
    await this.#bus.unsubscribe(this.#prefix + channel);
  }
}
