import type { BrokerEpochListener, BrokerListener, BrokerPublication, HistoryRead } from '@syncline/server';
import type { ChannelKeys } from './channel-keys.js';
import { toBrokerError } from './errors.js';
import { afterResubscribes, type QuietTimer } from './quiet-timer.js';
import type { RedisClient } from './redis-connections.js';
import { SubscriptionOrder } from './subscription-order.js';

/** Most publications read back per channel after the fan-out connection came back. */
const CATCH_UP_LIMIT = 10_000;

interface LocalChannel {
  readonly listener: BrokerListener;
  readonly onEpoch: BrokerEpochListener | undefined;
  epoch: string;
  /** Last offset handed to the listener. */
  offset: number;
}

/** Options of `FanoutSubscriptions`. */
export interface FanoutSubscriptionsOptions {
  /** The fan-out connection (sharded pub/sub on a Redis Cluster). */
  readonly sub: RedisClient;
  readonly keys: ChannelKeys;
  /** Bounds a subscribe by the read timeout (`unavailable` past it). */
  readonly bounded: <T>(work: Promise<T>, op: string) => Promise<T>;
  /** Reads a channel's history after `since`, without health check or time bound (the catch-up); `limit` 0 reads only its position. */
  readonly readSince: (channel: string, since: number, limit: number) => Promise<HistoryRead>;
  /** Whether the broker was closed (nothing is sent to Redis any more). */
  readonly closed: () => boolean;
  readonly onError: (err: unknown, channel?: string) => void;
}

/**
 * A node's subscriptions to channels' fan-out: it listens to a channel only
 * while it has a local listener, hands each listener every publication once
 * and in offset order within an epoch, and after the fan-out connection came
 * back (on a Redis Cluster: after the sharded subscribers were rebuilt, when
 * a master failed over or slots moved) reads what was published meanwhile
 * from history; a channel whose epoch changed meanwhile is announced to its
 * `onEpoch` at once. A channel that had no publication yet since the node
 * subscribed gets its last one, so its subscribers see any gap and recover
 * it. The read waits until the burst of reconnect events is over (the
 * client's resubscribe commands are then in effect). A channel's subscribe
 * and unsubscribe commands reach Redis in the order they were asked for.
 */
export class FanoutSubscriptions {
  readonly #sub: RedisClient;
  readonly #keys: ChannelKeys;
  readonly #options: FanoutSubscriptionsOptions;
  /** Fan-out channel name → channel, for the channels with local subscribers. */
  readonly #byFanout = new Map<string, string>();
  readonly #channels = new Map<string, LocalChannel>();
  readonly #order = new SubscriptionOrder();
  readonly #catchUp: QuietTimer;

  constructor(options: FanoutSubscriptionsOptions) {
    this.#options = options;
    this.#sub = options.sub;
    this.#keys = options.keys;
    const sub = options.sub;
    if (options.keys.cluster) {
      sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
    } else {
      sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
    }
    this.#catchUp = afterResubscribes(sub, () => this.#catchUpAll());
  }

  /**
   * Subscribes the node to a channel's fan-out; fails with `unavailable`
   * when Redis does not confirm in time (the subscription queued on the
   * connection is then withdrawn: the `UNSUBSCRIBE` follows it in order, so
   * nothing is left behind).
   */
  async subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void> {
    const local: LocalChannel = { listener, onEpoch, epoch: '', offset: 0 };
    const fanout = this.#keys.fanout(channel);
    this.#channels.set(channel, local);
    this.#byFanout.set(fanout, channel);
    try {
      await this.#options.bounded(
        this.#order.run(fanout, () =>
          this.#keys.cluster ? this.#sub.ssubscribe(fanout) : this.#sub.subscribe(fanout),
        ),
        'subscribe',
      );
    } catch (err) {
      if (this.#channels.get(channel) === local) {
        this.#channels.delete(channel);
        this.#byFanout.delete(fanout);
        if (!this.#options.closed()) this.#unsubscribeFanout(fanout).catch(() => undefined);
      }
      throw toBrokerError(err, 'subscribe');
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.#channels.delete(channel)) return;
    const fanout = this.#keys.fanout(channel);
    this.#byFanout.delete(fanout);
    if (this.#options.closed()) return;
    try {
      await this.#unsubscribeFanout(fanout);
    } catch (err) {
      throw toBrokerError(err, 'unsubscribe');
    }
  }

  /** Forgets every subscription (the broker is closing). */
  clear(): void {
    this.#catchUp.cancel();
    this.#channels.clear();
    this.#byFanout.clear();
  }

  #unsubscribeFanout(fanout: string): Promise<unknown> {
    return this.#order.run(fanout, () =>
      this.#keys.cluster ? this.#sub.sunsubscribe(fanout) : this.#sub.unsubscribe(fanout),
    );
  }

  #onMessage(fanout: Buffer, message: Buffer): void {
    const channel = this.#byFanout.get(fanout.toString('utf8'));
    if (channel === undefined) return;
    const local = this.#channels.get(channel);
    if (!local) return;
    let pub: BrokerPublication;
    try {
      const [epoch, offset, ts, user, data] = JSON.parse(message.toString('utf8')) as [
        string,
        number,
        number,
        string | null,
        unknown,
      ];
      pub = user === null ? { channel, epoch, offset, ts, data } : { channel, epoch, offset, ts, data, user };
    } catch (err) {
      this.#options.onError(err, channel);
      return;
    }
    this.#hand(local, pub);
  }

  /** Hands a publication to the listener once, in offset order within an epoch. */
  #hand(local: LocalChannel, pub: BrokerPublication): void {
    if (pub.epoch !== local.epoch) {
      local.epoch = pub.epoch;
      local.offset = 0;
    } else if (pub.offset <= local.offset) {
      return;
    }
    local.offset = pub.offset;
    local.listener(pub);
  }

  /** After the fan-out connection came back: read what was published meanwhile. */
  #catchUpAll(): void {
    if (this.#options.closed()) return;
    for (const [channel, local] of this.#channels) {
      (local.offset === 0 ? this.#catchUpFresh(channel, local) : this.#catchUpSince(channel, local)).catch(
        (err: unknown) => this.#options.onError(err, channel),
      );
    }
  }

  /** A channel that had publications here: those after the last one handed, or its new epoch. */
  async #catchUpSince(channel: string, local: LocalChannel): Promise<void> {
    const epoch = local.epoch;
    const read = await this.#options.readSince(channel, local.offset, CATCH_UP_LIMIT);
    if (this.#channels.get(channel) !== local) return;
    if (read.epoch !== epoch) {
      // Redis lost writes (or restarted): the channel has a new epoch. Its
      // subscribers learn it now, not at the next publication.
      if (local.epoch !== epoch) return;
      local.epoch = read.epoch;
      local.offset = read.offset;
      local.onEpoch?.(read.epoch, read.offset);
      return;
    }
    for (const p of read.publications) this.#hand(local, { ...p, channel, epoch });
  }

  /**
   * A channel with no publication here since the node subscribed: its last
   * publication, if any (subscribers behind it see the gap and recover).
   */
  async #catchUpFresh(channel: string, local: LocalChannel): Promise<void> {
    const top = await this.#options.readSince(channel, 0, 0);
    if (top.offset === 0 || this.#channels.get(channel) !== local || local.offset !== 0) return;
    const read = await this.#options.readSince(channel, top.offset - 1, 1);
    if (this.#channels.get(channel) !== local || local.offset !== 0) return;
    for (const p of read.publications) this.#hand(local, { ...p, channel, epoch: read.epoch });
  }
}
