import { withDeadline } from '@syncline/server';
import { brokerUnavailable } from './errors.js';
import { afterResubscribes, type QuietTimer } from './quiet-timer.js';
import { createNodeConnections, type RedisClient } from './redis-connections.js';
import { SubscriptionOrder } from './subscription-order.js';

/** First and longest wait before `renew` sends a refused subscribe again, ms. */
const RENEW_RETRY_MIN_MS = 100;
const RENEW_RETRY_MAX_MS = 2_000;

/** Receives the payloads of one bus channel. */
export type BusListener = (payload: string) => void;

/** Options of a pub/sub bus. */
export interface PubSubBusOptions {
  /** `redis://…` URL of one Redis. */
  readonly url?: string | undefined;
  /** Seed nodes of a Redis Cluster instead of `url`: the bus then uses sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`). */
  readonly cluster?: readonly string[] | undefined;
  /** Time after which a command fails (default 2.5 s). */
  readonly commandTimeoutMs?: number;
  /** Called with failures of background work. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Redis pub/sub for one node: a publishing connection that fails fast while
 * Redis is down (never queues or resends), and a subscriber connection that
 * resubscribes by itself after a reconnect and then calls the `reconnected`
 * hooks so users can catch up on what they missed. On a Redis Cluster every
 * bus channel is a shard channel: a payload crosses only the shard that owns
 * its channel's slot, and the `reconnected` hooks run whenever the sharded
 * subscribers were rebuilt (a failover, moved slots, a lost connection).
 * The hooks run once per burst of such events, once it is over (the
 * client's resubscribe commands are then in effect), and a bus channel's
 * subscribe and unsubscribe commands reach Redis in the order they were
 * asked for.
 */
export class PubSubBus {
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #cluster: boolean;
  readonly #listeners = new Map<string, BusListener>();
  readonly #reconnected = new Set<() => void>();
  readonly #order = new SubscriptionOrder();
  readonly #afterReconnect: QuietTimer;
  readonly #onError: (err: unknown) => void;
  #closed = false;

  constructor(options: PubSubBusOptions) {
    this.#onError = options.onError ?? (() => undefined);
    const { commands, subscriber } = createNodeConnections(options, options.commandTimeoutMs);
    this.#pub = commands;
    this.#sub = subscriber;
    this.#cluster = subscriber.isCluster;
    this.#sub.on(this.#cluster ? 'smessage' : 'message', (channel: string, payload: string) => {
      const l = this.#listeners.get(channel);
      if (!l) return;
      try {
        l(payload);
      } catch (err) {
        this.#onError(err);
      }
    });
    this.#afterReconnect = afterResubscribes(this.#sub, () => {
      if (this.#closed) return;
      for (const fn of this.#reconnected) fn();
    });
  }

  /** Connects both connections. */
  async connect(): Promise<void> {
    await Promise.all([this.#pub.connect(), this.#sub.connect()]);
  }

  /** The command connection (fails fast while Redis is down). */
  get redis(): RedisClient {
    return this.#pub;
  }

  /** Publishes a payload; resolves with the number of subscribers that got it; rejects while Redis is unreachable. */
  async publish(channel: string, payload: string): Promise<number> {
    return Number(await (this.#cluster ? this.#pub.spublish(channel, payload) : this.#pub.publish(channel, payload)));
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
      const done = this.#order.run(channel, () => this.#subscribeCommand(channel));
      await (timeoutMs === undefined
        ? done
        : withDeadline(done, timeoutMs, () =>
            brokerUnavailable(new Error(`Redis did not confirm a subscription within ${timeoutMs} ms`)),
          ));
    } catch (err) {
      if (this.#listeners.get(channel) === listener) {
        this.#listeners.delete(channel);
        if (timeoutMs !== undefined && !this.#closed) this.#unsubscribe(channel).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Subscribes a channel again and resolves once Redis confirmed it (its
   * listener stays): an unsubscribe then a subscribe, in order. For a check
   * after a reconnect that the subscription is in effect: subscribing alone
   * would do on Redis, but a Redis Cluster client keeps one more entry of
   * the channel in its own list (and resends them all) at each call. Once
   * unsubscribed, the channel is in no list that a reconnect would
   * resubscribe, so a refused subscribe (mid-failover: too many redirections,
   * a closed connection) is sent again, with a backoff from 100 ms to 2 s,
   * until Redis confirms it, the channel is unsubscribed or the bus closes.
   */
  async renew(channel: string): Promise<void> {
    if (!this.#listeners.has(channel) || this.#closed) return;
    const dropped = this.#unsubscribe(channel);
    const subscribed = this.#order.run(channel, async () => {
      for (let delayMs = RENEW_RETRY_MIN_MS; ; delayMs = Math.min(RENEW_RETRY_MAX_MS, delayMs * 2)) {
        if (!this.#listeners.has(channel) || this.#closed) return;
        try {
          await this.#subscribeCommand(channel);
          return;
        } catch (err) {
          this.#onError(err);
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    });
    await dropped.catch(() => undefined);
    await subscribed;
  }

  #subscribeCommand(channel: string): Promise<unknown> {
    return this.#cluster ? this.#sub.ssubscribe(channel) : this.#sub.subscribe(channel);
  }

  /** Stops delivering a channel. */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.#listeners.delete(channel) || this.#closed) return;
    await this.#unsubscribe(channel);
  }

  #unsubscribe(channel: string): Promise<unknown> {
    return this.#order.run(channel, () =>
      this.#cluster ? this.#sub.sunsubscribe(channel) : this.#sub.unsubscribe(channel),
    );
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
    this.#afterReconnect.cancel();
    this.#listeners.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
