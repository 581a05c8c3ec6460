import { withDeadline } from '@syncline/server';
import type { Redis } from 'ioredis';
import { brokerUnavailable } from './errors.js';
import { createNodeConnections } from './redis-connections.js';

/** Receives the payloads of one bus channel. */
export type BusListener = (payload: string) => void;

/** Options of a pub/sub bus. */
export interface PubSubBusOptions {
  readonly url: string;
  /** Time after which a command fails (default 2.5 s). */
  readonly commandTimeoutMs?: number;
  /** Called with failures of background work. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Redis pub/sub for one node: a publishing connection that fails fast while
 * Redis is down (never queues or resends), and a subscriber connection that
 * resubscribes by itself after a reconnect and then calls the `reconnected`
 * hooks so users can catch up on what they missed.
 */
export class PubSubBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #listeners = new Map<string, BusListener>();
  readonly #reconnected = new Set<() => void>();
  readonly #onError: (err: unknown) => void;
  #wasReady = false;
  #closed = false;

  constructor(options: PubSubBusOptions) {
    this.#onError = options.onError ?? (() => undefined);
    const { commands, subscriber } = createNodeConnections(options.url, options.commandTimeoutMs);
    this.#pub = commands;
    this.#sub = subscriber;
    this.#sub.on('message', (channel: string, payload: string) => {
      const l = this.#listeners.get(channel);
      if (!l) return;
      try {
        l(payload);
      } catch (err) {
        this.#onError(err);
      }
    });
    this.#sub.on('ready', () => {
      if (this.#wasReady) for (const fn of this.#reconnected) fn();
      this.#wasReady = true;
    });
  }

  /** Connects both connections. */
  async connect(): Promise<void> {
    await Promise.all([this.#pub.connect(), this.#sub.connect()]);
  }

  /** The command connection (fails fast while Redis is down). */
  get redis(): Redis {
    return this.#pub;
  }

  /** Publishes a payload; resolves with the number of subscribers that got it; rejects while Redis is unreachable. */
  async publish(channel: string, payload: string): Promise<number> {
    return this.#pub.publish(channel, payload);
  }

  /**
   * Delivers a channel's payloads to `listener` (replacing any earlier one).
   * With `timeoutMs`, fails with `unavailable` when Redis has not confirmed
   * within it, and withdraws the queued subscription (its `UNSUBSCRIBE`
   * follows in order). Without it, waits until Redis is back.
   */
  async subscribe(channel: string, listener: BusListener, options: { timeoutMs?: number } = {}): Promise<void> {
    this.#listeners.set(channel, listener);
    const { timeoutMs } = options;
    try {
      const done = this.#sub.subscribe(channel);
      await (timeoutMs === undefined
        ? done
        : withDeadline(done, timeoutMs, () =>
            brokerUnavailable(new Error(`Redis did not confirm a subscription within ${timeoutMs} ms`)),
          ));
    } catch (err) {
      if (this.#listeners.get(channel) === listener) {
        this.#listeners.delete(channel);
        if (timeoutMs !== undefined && !this.#closed) this.#sub.unsubscribe(channel).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Stops delivering a channel. */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.#listeners.delete(channel) || this.#closed) return;
    await this.#sub.unsubscribe(channel);
  }

  /** Runs `fn` each time the subscriber connection is back after a loss. */
  onReconnected(fn: () => void): () => void {
    this.#reconnected.add(fn);
    return () => this.#reconnected.delete(fn);
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
