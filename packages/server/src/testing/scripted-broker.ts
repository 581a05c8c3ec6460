import type {
  Broker,
  BrokerEpochListener,
  BrokerListener,
  BrokerPublication,
  HistoryRead,
  PublishInput,
  PublishOutcome,
  StreamTop,
} from '../broker/broker.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';

/** A `history` call the broker answered. */
export interface HistoryCall {
  readonly channel: string;
  readonly since: number;
  readonly limit: number;
}

interface ChannelLog {
  epoch: string;
  publications: BrokerPublication[];
  listener: BrokerListener | undefined;
  onEpoch: BrokerEpochListener | undefined;
}

/**
 * An in-memory `Broker` for unit tests of what sits on top of it (the
 * channel hub): the test decides what reaches the node. `publish` appends to
 * the channel's history and delivers it; `append` stores without delivering
 * (a planted gap: the node must repair it from history); `deliver` hands any
 * publication to the node as is (out of order, duplicated, another epoch);
 * `changeEpoch` reports an epoch change with no publication. History reads
 * are recorded, `holdHistory` keeps them in flight, and `loseFromHistory`
 * makes them miss offsets.
 */
export class ScriptedBroker implements Broker {
  readonly #channels = new Map<string, ChannelLog>();
  readonly #lost = new Set<string>();
  #historyGate: Promise<void> | undefined;
  /** Every `history` call, in order. */
  readonly historyCalls: HistoryCall[] = [];
  /** Channels unsubscribed, in order. */
  readonly unsubscribed: string[] = [];
  /** When set, `subscribe` rejects with it. */
  subscribeError: Error | undefined;

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const pub = this.append(input.channel, input.data);
    this.deliver(pub);
    return { offset: pub.offset, epoch: pub.epoch, duplicate: false };
  }

  async subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void> {
    if (this.subscribeError) throw this.subscribeError;
    const log = this.#log(channel);
    log.listener = listener;
    log.onEpoch = onEpoch;
  }

  async unsubscribe(channel: string): Promise<void> {
    this.unsubscribed.push(channel);
    const log = this.#log(channel);
    log.listener = undefined;
    log.onEpoch = undefined;
  }

  async history(
    channel: string,
    options: { since: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    this.historyCalls.push({ channel, since: options.since, limit: options.limit });
    if (this.#historyGate) await this.#historyGate;
    const log = this.#log(channel);
    const publications = log.publications
      .filter((p) => p.offset > options.since && !this.#lost.has(`${channel}#${p.offset}`))
      .slice(0, options.limit)
      .map(({ channel: _c, epoch: _e, ...p }) => p);
    return {
      epoch: log.epoch,
      offset: log.publications.at(-1)?.offset ?? 0,
      minOffset: log.publications[0]?.offset ?? 0,
      publications,
    };
  }

  async historyBefore(
    channel: string,
    options: { before: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    const log = this.#log(channel);
    const below = log.publications
      .filter((p) => p.offset < options.before && !this.#lost.has(`${channel}#${p.offset}`))
      .map(({ channel: _c, epoch: _e, ...p }) => p);
    return {
      epoch: log.epoch,
      offset: log.publications.at(-1)?.offset ?? 0,
      minOffset: log.publications[0]?.offset ?? 0,
      publications: options.limit > 0 ? below.slice(-options.limit) : [],
    };
  }

  async top(channel: string): Promise<StreamTop> {
    const log = this.#log(channel);
    return { epoch: log.epoch, offset: log.publications.at(-1)?.offset ?? 0 };
  }

  async close(): Promise<void> {
    this.#channels.clear();
  }

  /** Stores the channel's next publication without delivering it. */
  append(channel: string, data: unknown): BrokerPublication {
    const log = this.#log(channel);
    const pub: BrokerPublication = {
      channel,
      epoch: log.epoch,
      offset: (log.publications.at(-1)?.offset ?? 0) + 1,
      data,
      ts: 1_000 + log.publications.length,
    };
    log.publications.push(pub);
    return pub;
  }

  /** Hands a publication to the node's listener (if subscribed), whatever it is. */
  deliver(pub: BrokerPublication): void {
    this.#log(pub.channel).listener?.(pub);
  }

  /** The stored publication at `offset` of the current epoch. */
  stored(channel: string, offset: number): BrokerPublication {
    const pub = this.#log(channel).publications.find((p) => p.offset === offset);
    if (!pub) throw new Error(`ScriptedBroker: no publication ${offset} in ${channel}`);
    return pub;
  }

  /** Holds history reads (they answer, from the state at that time, once `release` is called). */
  holdHistory(): () => void {
    let release: () => void = () => undefined;
    this.#historyGate = new Promise((resolve) => {
      release = () => {
        this.#historyGate = undefined;
        resolve();
      };
    });
    return release;
  }

  /** History reads will miss this offset (the backend lost it). */
  loseFromHistory(channel: string, offset: number): void {
    this.#lost.add(`${channel}#${offset}`);
  }

  /** Starts a new epoch whose history begins after `offset`; with `notify`, tells the node through `onEpoch`. */
  changeEpoch(channel: string, epoch: string, offset: number, notify = true): void {
    const log = this.#log(channel);
    log.epoch = epoch;
    log.publications = [];
    for (let o = 1; o <= offset; o++) log.publications.push({ channel, epoch, offset: o, data: null, ts: 0 });
    if (notify) log.onEpoch?.(epoch, offset);
  }

  #log(channel: string): ChannelLog {
    let log = this.#channels.get(channel);
    if (!log) {
      log = { epoch: 'e1', publications: [], listener: undefined, onEpoch: undefined };
      this.#channels.set(channel, log);
    }
    return log;
  }
}
