import { createHash } from 'node:crypto';
import type { PresenceEntry } from '@syncline/protocol';
import {
  type BackendHealth,
  type Broker,
  type BrokerEpochListener,
  type BrokerListener,
  type FeedListener,
  type HealthListener,
  HealthSignal,
  type HistoryOptions,
  type HistoryRead,
  type PresenceChange,
  type PresenceEnterLimits,
  type PresenceFanout,
  type PresenceOwner,
  type PresenceSnapshot,
  type PresenceStore,
  type PublicationFeed,
  type PublishInput,
  type PublishOutcome,
  type StreamTop,
} from '@syncline/server';
import type { RedisBroker } from './redis-broker.js';

/** Most independent Redis instances a node spreads channels over. */
export const MAX_REDIS_SHARDS = 64;

/** The name hashed to place node-wide state (revocations, counts, occupancy, forwarding, document ops) on one instance. */
export const NODE_WIDE_NAME = '\u0000node-wide';

/** The name an instance is hashed by: its address and database, without credentials (the same on every node). */
export function shardName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}${u.pathname === '' ? '/' : u.pathname}`;
}

/**
 * Rendezvous (highest random weight) hashing of `name` over `shards` (their
 * `shardName`s): every node picks the same instance for a channel whatever
 * order the instances were listed in, and adding an instance moves only the
 * channels it now wins (about 1 in N+1).
 */
export function pickShard(name: string, shards: readonly string[]): number {
  let best = 0;
  let bestScore = -1n;
  for (const [i, shard] of shards.entries()) {
    const score = createHash('sha1').update(shard).update('\u0000').update(name).digest().readBigUInt64BE(0);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/** Receives the health of one instance of a `ShardedBroker` on every change (`name` is its `shardName`). */
export type InstanceHealthListener = (name: string, health: BackendHealth) => void;

/**
 * A Broker over several independent Redis instances: each channel lives on
 * the instance `pickShard` chooses for it (its position, history, epoch,
 * idempotency keys and fan-out), so a channel's order and recovery are those
 * of one Redis. An instance that is down fails only its own channels: their
 * publishes, subscribes and reads answer `unavailable` (or `timeout` when a
 * publish's outcome is unknown) at once, while the channels of the other
 * instances go on as if nothing happened. The broker as a whole (`health()`,
 * what the node's readiness and its refusals follow) is down only while
 * every instance is down; each instance's own changes go to
 * `onInstanceHealth`. Closing it closes every instance's broker.
 */
export class ShardedBroker implements Broker {
  readonly #brokers: readonly RedisBroker[];
  readonly #names: readonly string[];
  readonly #signal = new HealthSignal();

  /**
   * `brokers[i]` serves the instance named `names[i]` (`shardName` of its
   * URL); `onInstanceHealth` hears of each instance going down and up.
   */
  constructor(brokers: readonly RedisBroker[], names: readonly string[], onInstanceHealth?: InstanceHealthListener) {
    if (brokers.length === 0 || brokers.length !== names.length) {
      throw new RangeError('ShardedBroker needs one name per broker, and at least one broker');
    }
    this.#brokers = brokers;
    this.#names = names;
    const update = (): void => {
      const down = brokers.map((b, i) => [b.health(), names[i]] as const).filter(([h]) => !h.up);
      if (down.length === brokers.length) {
        this.#signal.set(false, down.map(([h, name]) => `Redis ${name}: ${h.reason ?? 'down'}`).join('; '));
      } else {
        this.#signal.set(true);
      }
    };
    for (const [i, b] of brokers.entries()) {
      b.onHealth((h) => {
        onInstanceHealth?.(names[i] as string, h);
        update();
      });
    }
    update();
  }

  /** Each instance's health, by `shardName`. */
  instances(): ReadonlyMap<string, BackendHealth> {
    return new Map(this.#brokers.map((b, i) => [this.#names[i] as string, b.health()]));
  }

  /** The broker of the instance that holds `channel`. */
  brokerOf(channel: string): RedisBroker {
    return this.#brokers[pickShard(channel, this.#names)] as RedisBroker;
  }

  /** Every instance's broker, in the order given. */
  get brokers(): readonly RedisBroker[] {
    return this.#brokers;
  }

  publish(input: PublishInput): Promise<PublishOutcome> {
    return this.brokerOf(input.channel).publish(input);
  }

  subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void> {
    return this.brokerOf(channel).subscribe(channel, listener, onEpoch);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.brokerOf(channel).unsubscribe(channel);
  }

  history(channel: string, options: { since: number; limit: number; history: HistoryOptions }): Promise<HistoryRead> {
    return this.brokerOf(channel).history(channel, options);
  }

  historyBefore(
    channel: string,
    options: { before: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    return this.brokerOf(channel).historyBefore(channel, options);
  }

  top(channel: string): Promise<StreamTop> {
    return this.brokerOf(channel).top(channel);
  }

  health(): BackendHealth {
    return this.#signal.health();
  }

  onHealth(listener: HealthListener): () => void {
    return this.#signal.onHealth(listener);
  }

  async close(): Promise<void> {
    for (const b of this.#brokers) await b.close();
  }
}

/**
 * Presence over several instances: each channel's entries on its instance;
 * heartbeats and expiry on all. An instance that is down fails the presence
 * of its own channels only: heartbeats and expiry go on on the others (their
 * failures on the lost instance go to `onError`, and that instance's dead
 * entries are expired at the first tick after it is back).
 */
export class ShardedPresenceStore implements PresenceStore {
  readonly #stores: readonly PresenceStore[];
  readonly #names: readonly string[];
  readonly #onError: (err: unknown, instance: string) => void;

  constructor(
    stores: readonly PresenceStore[],
    names: readonly string[],
    onError: (err: unknown, instance: string) => void = () => undefined,
  ) {
    this.#stores = stores;
    this.#names = names;
    this.#onError = onError;
  }

  /** Runs `fn` on every instance; returns the results of those that answered, reports the others. */
  async #onEach<T>(fn: (store: PresenceStore) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(this.#stores.map(fn));
    const out: T[] = [];
    for (const [i, r] of settled.entries()) {
      if (r.status === 'fulfilled') out.push(r.value);
      else this.#onError(r.reason, this.#names[i] as string);
    }
    return out;
  }

  #of(channel: string): PresenceStore {
    return this.#stores[pickShard(channel, this.#names)] as PresenceStore;
  }

  enter(
    channel: string,
    entry: PresenceEntry,
    owner: PresenceOwner,
    limits?: PresenceEnterLimits,
  ): Promise<PresenceChange> {
    return this.#of(channel).enter(channel, entry, owner, limits);
  }

  update(
    channel: string,
    user: string,
    clientId: string,
    state: unknown,
    now: number,
  ): Promise<PresenceChange | undefined> {
    return this.#of(channel).update(channel, user, clientId, state, now);
  }

  leave(
    channel: string,
    user: string,
    clientId: string,
    onlyOwner?: PresenceOwner,
  ): Promise<PresenceChange | undefined> {
    return this.#of(channel).leave(channel, user, clientId, onlyOwner);
  }

  list(channel: string): Promise<PresenceSnapshot> {
    return this.#of(channel).list(channel);
  }

  async channels(): Promise<ReadonlyMap<string, number>> {
    const out = new Map<string, number>();
    for (const m of await Promise.all(this.#stores.map((s) => s.channels()))) for (const [c, n] of m) out.set(c, n);
    return out;
  }

  async heartbeat(node: string, now: number): Promise<void> {
    await this.#onEach((s) => s.heartbeat(node, now));
  }

  async expire(now: number, nodeTtlMs: number): Promise<PresenceChange[]> {
    return (await this.#onEach((s) => s.expire(now, nodeTtlMs))).flat();
  }

  async close(): Promise<void> {
    for (const s of this.#stores) await s.close();
  }
}

/** Presence fan-out over several instances: each channel's changes on the bus of its instance. */
export class ShardedPresenceFanout implements PresenceFanout {
  readonly #fanouts: readonly PresenceFanout[];
  readonly #names: readonly string[];

  constructor(fanouts: readonly PresenceFanout[], names: readonly string[]) {
    this.#fanouts = fanouts;
    this.#names = names;
  }

  #of(channel: string): PresenceFanout {
    return this.#fanouts[pickShard(channel, this.#names)] as PresenceFanout;
  }

  publish(change: PresenceChange): void {
    this.#of(change.channel).publish(change);
  }

  subscribe(channel: string, listener: (change: PresenceChange) => void): Promise<void> {
    return this.#of(channel).subscribe(channel, listener);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.#of(channel).unsubscribe(channel);
  }

  onResync(listener: () => void): () => void {
    const stops = this.#fanouts.map((f) => f.onResync?.(listener) ?? (() => undefined));
    return () => {
      for (const stop of stops) stop();
    };
  }
}

/**
 * The publication feed over several instances: each instance's publish
 * script records into that instance's feed, relayed by the node holding that
 * instance's lease (one relay per instance; a channel's publications stay in
 * order, they are all on one instance).
 */
export class ShardedPublicationFeed implements PublicationFeed {
  readonly #feeds: readonly PublicationFeed[];

  constructor(feeds: readonly PublicationFeed[]) {
    this.#feeds = feeds;
  }

  start(namespaces: ReadonlySet<string>, listener: FeedListener): void {
    for (const f of this.#feeds) f.start(namespaces, listener);
  }

  get lost(): number {
    return this.#feeds.reduce((a, f) => a + f.lost, 0);
  }

  /** Whether this node relays the feed of at least one instance (diagnostics). */
  get relaying(): boolean {
    return this.#feeds.some((f) => (f as { relaying?: boolean }).relaying === true);
  }

  async close(): Promise<void> {
    for (const f of this.#feeds) await f.close();
  }
}
