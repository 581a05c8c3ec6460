import { SynclineError } from '@syncline/protocol';
import {
  type BackendHealth,
  type Broker,
  type BrokerEpochListener,
  type BrokerListener,
  type HealthListener,
  type HistoryOptions,
  type HistoryRead,
  type PublishInput,
  type PublishOutcome,
  type StreamTop,
  withDeadline,
} from '@syncline/server';
import { HISTORY_BEFORE_SCRIPT, HISTORY_SCRIPT, parseEntry, type RawEntry } from './broker-scripts.js';
import { ChannelKeys, newEpoch } from './channel-keys.js';
import { appendToFeed } from './cluster-publish.js';
import { brokerUnavailable, toBrokerError } from './errors.js';
import { FanoutSubscriptions } from './fanout-subscriptions.js';
import { type FeedRecording, feedScriptParts, records } from './feed-recording.js';
import { PublishConnection } from './publish-connection.js';
import {
  checkClusterPrefix,
  checkTarget,
  createNodeConnections,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClient,
} from './redis-connections.js';
import { RedisHealth } from './redis-health.js';
import { RedisIdentity } from './redis-identity.js';
import { checkReplicaAckOptions, DEFAULT_ACK_TIMEOUT_MS } from './replica-ack.js';

/** Options of the Redis broker. */
export interface RedisBrokerOptions {
  /** `redis://…` (or `rediss://` for TLS) URL of the Redis server, with credentials and database if any. */
  readonly url?: string | undefined;
  /**
   * Seed nodes of a Redis Cluster instead of `url` (`host:port`, or
   * `redis://[user:password@]host:port`; at most `MAX_CLUSTER_SEEDS`). Each
   * channel's keys share its hash tag, so its scripts run on one shard, and
   * its fan-out is sharded pub/sub on that shard.
   */
  readonly cluster?: readonly string[] | undefined;
  /** Prefix of every key and fan-out channel (default `syncline:`); separates deployments sharing a Redis. */
  readonly prefix?: string;
  /** How long a channel's epoch and position outlive its last publication (default 24 h, at least the history TTL). */
  readonly metaTtlMs?: number;
  /** Time after which a Redis command fails with a retryable error (default 2.5 s, so every command is answered within 3 s). */
  readonly commandTimeoutMs?: number;
  /** Called with background failures (fan-out parsing, catch-up reads). */
  readonly onError?: (err: unknown, channel?: string) => void;
  /**
   * Longest a `subscribe`, `history` or `top` may wait on Redis before it
   * fails with `unavailable` (default `BROKER_READ_TIMEOUT_MS`).
   */
  readonly readTimeoutMs?: number;
  /** How often Redis is PINGed to check it answers (default `HEALTH_PROBE_INTERVAL_MS`). */
  readonly pingIntervalMs?: number;
  /** Longest a PING may take before Redis counts as down (default `HEALTH_PROBE_TIMEOUT_MS`). */
  readonly pingTimeoutMs?: number;
  /**
   * Replicas that must confirm a publication before its publish is
   * acknowledged (default 0: acknowledged once stored on the master). With
   * N > 0, every publish (a duplicate too: its first publication may not be
   * replicated yet) is followed by Redis `WAIT N ackTimeoutMs`, on a
   * connection of its own so that reads, presence and health PINGs never
   * queue behind it; when fewer replicas confirm in time the publish fails
   * with the retryable `timeout` (outcome unknown: the publication is stored
   * on the master and fanned out, but may be lost by a failover), and a
   * resend with the same key is answered as a duplicate once replicated.
   */
  readonly ackReplicas?: number;
  /** Longest wait for `ackReplicas` replicas, ms (default `DEFAULT_ACK_TIMEOUT_MS`; at least 1, below `commandTimeoutMs`). */
  readonly ackTimeoutMs?: number;
}

/** Default longest wait of a subscribe or read on Redis before it fails with `unavailable`. */
export const BROKER_READ_TIMEOUT_MS = 2_000;

/** Default lifetime of a channel's meta key after its last publication. */
export const DEFAULT_META_TTL_MS = 24 * 60 * 60_000;

/**
 * A Broker on Redis for a cluster of nodes. Publish is one Lua script that
 * allocates the channel's next offset, appends to a capped stream (the
 * history, trimmed by size and TTL), records the idempotency key and publishes
 * to the node fan-out, so offsets and order hold across nodes. Each channel
 * has an epoch stored beside its position; when Redis loses the channel (a
 * restart without persistence, expiry of an abandoned channel) the next use
 * creates a new epoch. A node subscribes to a channel's fan-out only while
 * it has local subscribers. While Redis is unreachable, publishes fail with
 * `unavailable` (or `timeout` when the outcome is unknown); after a reconnect
 * the node reads what it missed from history.
 *
 * On a Redis Cluster (`cluster` seeds) every key of a channel carries its
 * hash tag, so each script runs on the master of the channel's slot (and
 * reads that master's run_id itself); the fan-out is sharded pub/sub on that
 * master; redirections and slot-map refreshes are followed, and after the
 * sharded subscribers were rebuilt (failover, moved slots) the node reads
 * what it missed from history.
 */
export class RedisBroker implements Broker {
  readonly #redis: RedisClient;
  readonly #sub: RedisClient;
  readonly #keys: ChannelKeys;
  readonly #metaTtlMs: number;
  readonly #onError: (err: unknown, channel?: string) => void;
  #closed = false;
  /** The run_id of the Redis process behind the command connection. */
  readonly #identity: RedisIdentity;
  readonly #publishes: PublishConnection;
  readonly #fanout: FanoutSubscriptions;
  readonly #alsoClose: Array<() => Promise<void>> = [];
  readonly #health: RedisHealth;
  readonly #readTimeoutMs: number;
  #feed: FeedRecording | undefined;

  /** Connects; use `RedisBroker.connect` to wait for the connection. */
  constructor(options: RedisBrokerOptions) {
    const prefix = options.prefix ?? 'syncline:';
    checkTarget(options);
    const cluster = options.cluster !== undefined;
    if (cluster) checkClusterPrefix(prefix);
    this.#keys = new ChannelKeys(prefix, cluster);
    this.#readTimeoutMs = options.readTimeoutMs ?? BROKER_READ_TIMEOUT_MS;
    this.#metaTtlMs = options.metaTtlMs ?? DEFAULT_META_TTL_MS;
    this.#onError = options.onError ?? (() => undefined);
    // Commands fail fast while disconnected and are never resent blindly
    // (a resent publish could be applied twice); the fan-out connection
    // queues (re)subscriptions until Redis is back.
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const ackReplicas = options.ackReplicas ?? 0;
    const ackTimeoutMs = options.ackTimeoutMs ?? Math.min(DEFAULT_ACK_TIMEOUT_MS, commandTimeoutMs - 1);
    checkReplicaAckOptions(ackReplicas, ackTimeoutMs, commandTimeoutMs);
    const { commands, subscriber } = createNodeConnections(options, commandTimeoutMs);
    this.#redis = commands;
    this.#sub = subscriber;
    // A restart or failover always breaks the connection: the next script
    // learns the identity of the process it then talks to before it runs.
    // (On a Redis Cluster the scripts read it themselves: the node does not
    // know which master runs them.)
    this.#identity = new RedisIdentity(commands);
    this.#publishes = new PublishConnection(options, commands, this.#identity, {
      commandTimeoutMs,
      ackReplicas,
      ackTimeoutMs,
    });
    const connections: Array<readonly [string, RedisClient]> = [
      ['commands', commands],
      ['subscriber', subscriber],
    ];
    const own = this.#publishes.own;
    if (own !== undefined) connections.push(['replicated publishes', own]);
    this.#fanout = new FanoutSubscriptions({
      sub: subscriber,
      keys: this.#keys,
      bounded: (work, op) => this.#bounded(work, op),
      readSince: (channel, since, limit) =>
        this.#runHistory(HISTORY_SCRIPT, channel, since, limit, { size: limit, ttlMs: Number.MAX_SAFE_INTEGER }),
      closed: () => this.#closed,
      onError: this.#onError,
    });
    this.#health = new RedisHealth(connections, {
      pingIntervalMs: options.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs,
      onError: this.#onError,
    });
  }

  /** Whether Redis answers (see `HealthReporter`): down within 3 s of a lost connection or an unanswered PING. */
  health(): BackendHealth {
    return this.#health.health();
  }

  /** Calls `listener` on every change of `health()`. */
  onHealth(listener: HealthListener): () => void {
    return this.#health.onHealth(listener);
  }

  /** Fails at once while Redis is known to be down: nothing is sent. */
  #assertUp(): void {
    if (this.#closed) throw new SynclineError('unavailable', 'The broker is closed.');
    const h = this.#health.health();
    if (!h.up) throw brokerUnavailable(new Error(h.reason ?? 'Redis is down'));
  }

  /** Bounds a read or subscribe: `unavailable` after `readTimeoutMs`. */
  #bounded<T>(work: Promise<T>, op: string): Promise<T> {
    return withDeadline(work, this.#readTimeoutMs, () =>
      brokerUnavailable(new Error(`Redis did not answer the ${op} within ${this.#readTimeoutMs} ms`)),
    );
  }

  /** Creates a broker and waits until both connections are up. */
  static async connect(options: RedisBrokerOptions): Promise<RedisBroker> {
    const broker = new RedisBroker(options);
    try {
      await Promise.all([broker.#redis.connect(), broker.#sub.connect(), broker.#publishes.own?.connect()]);
      broker.#health.start();
    } catch (err) {
      await broker.close();
      throw new SynclineError('unavailable', `Redis is not reachable: ${(err as Error).message}`, { cause: err });
    }
    return broker;
  }

  /** The command connection (for adapters sharing it, e.g. presence): a `Redis`, or a `Cluster` on a Redis Cluster. */
  get redis(): RedisClient {
    return this.#redis;
  }

  /** Whether the broker runs on a Redis Cluster. */
  get cluster(): boolean {
    return this.#keys.cluster;
  }

  /** Key prefix of this deployment. */
  get prefix(): string {
    return this.#keys.prefix;
  }

  #metaTtl(history: HistoryOptions): number {
    return Math.max(this.#metaTtlMs, history.ttlMs);
  }

  /** Records publications of the namespaces in the feed from the next publish on (`RedisPublicationFeed`). */
  recordPublications(recording: FeedRecording | undefined): void {
    this.#feed = recording;
  }

  async publish(input: PublishInput): Promise<PublishOutcome> {
    this.#assertUp();
    const keys = this.#keys;
    const [meta, stream] = keys.keys(input.channel);
    const recording = this.#feed;
    const feed = feedScriptParts(recording, keys.prefix, input.channel, keys.cluster);
    let reply: [string, number, number, number];
    try {
      reply = await this.#publishes.run(
        [meta, stream, keys.idempotency(input.channel, input.key), ...feed.keys],
        [
          input.history.size,
          input.history.ttlMs,
          this.#metaTtl(input.history),
          JSON.stringify(input.data ?? null),
          input.user === undefined ? '' : JSON.stringify(input.user),
          keys.fanout(input.channel),
          input.key === undefined ? '0' : '1',
          this.#publishes.acked ? '1' : '0',
          ...feed.args,
          keys.cluster ? '1' : '0',
        ],
      );
    } catch (err) {
      throw toBrokerError(err, 'publish');
    }
    // Stored and fanned out: from here on a failure means "outcome unknown".
    const [epoch, offset, duplicate, ts] = reply;
    await this.#publishes.confirm(meta);
    if (keys.cluster && duplicate !== 1 && records(recording, input.channel)) {
      await appendToFeed(this.#redis, recording, input, epoch, offset, ts).catch((err: unknown) =>
        this.#onError(toBrokerError(err, 'publication feed append'), input.channel),
      );
    }
    return { epoch, offset, duplicate: duplicate === 1 };
  }

  /**
   * Subscribes the node to a channel's fan-out. Fails at once while Redis is
   * down, and with `unavailable` after `readTimeoutMs` when Redis does not
   * confirm (the subscription queued on the connection is then withdrawn:
   * the `UNSUBSCRIBE` follows it in order, so nothing is left behind).
   */
  async subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void> {
    this.#assertUp();
    await this.#fanout.subscribe(channel, listener, onEpoch);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.#fanout.unsubscribe(channel);
  }

  async history(
    channel: string,
    options: { since: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    this.#assertUp();
    // A read may be cut short: running it again later is harmless.
    const read = this.#runHistory(HISTORY_SCRIPT, channel, options.since, options.limit, options.history);
    return this.#bounded(read, 'history');
  }

  async historyBefore(
    channel: string,
    options: { before: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    this.#assertUp();
    const read = this.#runHistory(HISTORY_BEFORE_SCRIPT, channel, options.before, options.limit, options.history);
    // The script returns the newest entries first.
    return this.#bounded(read, 'history').then((r) => ({ ...r, publications: r.publications.reverse() }));
  }

  /** Runs a history script (`from` is its `since` or `before`), without the health check or time bound. */
  async #runHistory(
    script: typeof HISTORY_SCRIPT,
    channel: string,
    from: number,
    limit: number,
    history: HistoryOptions,
  ): Promise<HistoryRead> {
    let raw: unknown;
    try {
      const identity = this.#keys.cluster ? '' : await this.#identity.get();
      raw = await script.run(this.#redis, this.#keys.keys(channel), [
        newEpoch(),
        identity,
        Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(from))),
        history.size > 0 ? Math.max(0, Math.floor(limit)) : 0,
        history.ttlMs,
        this.#metaTtl(history),
      ]);
    } catch (err) {
      throw toBrokerError(err, 'history');
    }
    const [epoch, offset, minOffset, entries] = raw as [string, number, number, RawEntry[]];
    return { epoch, offset, minOffset, publications: entries.map(parseEntry) };
  }

  async top(channel: string): Promise<StreamTop> {
    const read = await this.history(channel, { since: 0, limit: 0, history: { size: 0, ttlMs: 1 } });
    return { epoch: read.epoch, offset: read.offset };
  }

  /** Ties another resource's lifetime to the broker's: `close()` closes it too. */
  alsoClose(fn: () => Promise<void>): void {
    this.#alsoClose.push(fn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#health.stop();
    this.#fanout.clear();
    for (const fn of this.#alsoClose.splice(0)) await fn().catch(this.#onError);
    this.#redis.disconnect();
    this.#sub.disconnect();
    this.#publishes.own?.disconnect();
  }
}
