import { randomBytes } from 'node:crypto';
import { SynclineError } from '@syncline/protocol';
import {
  type BackendHealth,
  type Broker,
  type BrokerEpochListener,
  type BrokerListener,
  type BrokerPublication,
  type HealthListener,
  type HistoryOptions,
  type HistoryRead,
  type PublishInput,
  type PublishOutcome,
  type StreamTop,
  withDeadline,
} from '@syncline/server';
import type { Cluster, Redis } from 'ioredis';
import { HISTORY_BEFORE_SCRIPT, HISTORY_SCRIPT, PUBLISH_SCRIPT, parseEntry, type RawEntry } from './broker-scripts.js';
import { channelTag } from './channel-tag.js';
import { appendToFeed, confirmOnShard } from './cluster-publish.js';
import { brokerUnavailable, toBrokerError } from './errors.js';
import { type FeedRecording, feedScriptParts, records } from './feed-recording.js';
import {
  checkClusterPrefix,
  checkTarget,
  createCommandConnection,
  createNodeConnections,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClient,
} from './redis-connections.js';
import { RedisHealth } from './redis-health.js';
import { RedisIdentity } from './redis-identity.js';
import { checkReplicaAckOptions, DEFAULT_ACK_TIMEOUT_MS, ReplicaAck } from './replica-ack.js';

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

interface LocalChannel {
  readonly listener: BrokerListener;
  readonly onEpoch: BrokerEpochListener | undefined;
  epoch: string;
  /** Last offset handed to the listener. */
  offset: number;
}

function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

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
  readonly #prefix: string;
  /** On a Redis Cluster: sharded fan-out, run_id read by the scripts, feed appended apart. */
  readonly #cluster: boolean;
  /** Fan-out channel name → channel, for the channels with local subscribers. */
  readonly #byFanout = new Map<string, string>();
  readonly #metaTtlMs: number;
  readonly #onError: (err: unknown, channel?: string) => void;
  readonly #channels = new Map<string, LocalChannel>();
  #closed = false;
  #wasReady = false;
  /** The run_id of the Redis process behind the command connection. */
  readonly #identity: RedisIdentity;
  /** With `ackReplicas` > 0: the connection publishes run on, followed by a WAIT. */
  readonly #acked:
    | { readonly redis: Redis; readonly identity: RedisIdentity; readonly ack: ReplicaAck }
    | { readonly cluster: Cluster; readonly replicas: number; readonly timeoutMs: number }
    | undefined;
  readonly #alsoClose: Array<() => Promise<void>> = [];
  readonly #health: RedisHealth;
  readonly #readTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  #feed: FeedRecording | undefined;

  /** Connects; use `RedisBroker.connect` to wait for the connection. */
  constructor(options: RedisBrokerOptions) {
    this.#prefix = options.prefix ?? 'syncline:';
    checkTarget(options);
    this.#cluster = options.cluster !== undefined;
    if (this.#cluster) checkClusterPrefix(this.#prefix);
    this.#readTimeoutMs = options.readTimeoutMs ?? BROKER_READ_TIMEOUT_MS;
    this.#metaTtlMs = options.metaTtlMs ?? DEFAULT_META_TTL_MS;
    this.#onError = options.onError ?? (() => undefined);
    // Commands fail fast while disconnected and are never resent blindly
    // (a resent publish could be applied twice); the fan-out connection
    // queues (re)subscriptions until Redis is back.
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#commandTimeoutMs = commandTimeoutMs;
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
    const connections: Array<readonly [string, RedisClient]> = [
      ['commands', commands],
      ['subscriber', subscriber],
    ];
    if (ackReplicas > 0) {
      const redis = createCommandConnection(options, commandTimeoutMs);
      this.#acked = redis.isCluster
        ? { cluster: redis as Cluster, replicas: ackReplicas, timeoutMs: ackTimeoutMs }
        : {
            redis: redis as Redis,
            identity: new RedisIdentity(redis),
            ack: new ReplicaAck(redis as Redis, ackReplicas, ackTimeoutMs),
          };
      connections.push(['replicated publishes', redis]);
    } else {
      this.#acked = undefined;
    }
    if (this.#cluster) {
      this.#sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
      // After the sharded subscribers were rebuilt (a master failed over, slots
      // moved, a subscriber connection was lost) and resubscribed.
      this.#sub.on('subscribersReady', () => {
        if (this.#wasReady) this.#catchUpAll();
      });
      this.#sub.on('ready', () => {
        this.#wasReady = true;
      });
    } else {
      this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
      this.#sub.on('ready', () => {
        if (this.#wasReady) this.#catchUpAll();
        this.#wasReady = true;
      });
    }
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

  /**
   * On a Redis Cluster, bounds a write by the command timeout: a command may
   * wait in the cluster client's queue (a refresh of the slot map, a node
   * connecting) or be redirected several times before a node runs it, and
   * the per-node timeout covers only its last attempt. Past the bound its
   * outcome is unknown (`timeout`). On one Redis the connection's own
   * timeout bounds every command.
   */
  #bound<T>(work: Promise<T>): Promise<T> {
    if (!this.#cluster) return work;
    return withDeadline(work, this.#commandTimeoutMs, () => new Error('Command timed out (Redis Cluster)'));
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
      const acked = broker.#acked;
      await Promise.all([
        broker.#redis.connect(),
        broker.#sub.connect(),
        acked === undefined ? undefined : 'cluster' in acked ? acked.cluster.connect() : acked.redis.connect(),
      ]);
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
    return this.#cluster;
  }

  /** Key prefix of this deployment. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Common start of a channel's keys: `{prefix}{channel}` (on a cluster the channel's tag). */
  #base(channel: string): string {
    return `${this.#prefix}{${this.#cluster ? channelTag(channel) : channel}}`;
  }

  #keys(channel: string): [string, string] {
    const base = this.#base(channel);
    return [`${base}:m`, `${base}:s`];
  }

  /** The fan-out channel; on a cluster a shard channel in the slot of the channel's keys. */
  #fanout(channel: string): string {
    return this.#cluster ? `${this.#prefix}p:{${channelTag(channel)}}` : `${this.#prefix}p:${channel}`;
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
    const [meta, stream] = this.#keys(input.channel);
    const keyName = input.key === undefined ? `${meta}:k` : `${this.#base(input.channel)}:k:${input.key}`;
    const recording = this.#feed;
    const feed = feedScriptParts(recording, this.#prefix, input.channel, this.#cluster);
    const acked = this.#acked;
    const single = acked === undefined || 'cluster' in acked ? undefined : acked;
    let raw: unknown;
    try {
      // The identity is read on the connection the script runs on (on a
      // cluster, by the script itself).
      const identity = this.#cluster ? '' : await (single?.identity ?? this.#identity).get();
      raw = await this.#bound(
        PUBLISH_SCRIPT.run(
          acked === undefined ? this.#redis : 'cluster' in acked ? acked.cluster : acked.redis,
          [meta, stream, keyName, ...feed.keys],
          [
            newEpoch(),
            identity,
            input.history.size,
            input.history.ttlMs,
            this.#metaTtl(input.history),
            JSON.stringify(input.data ?? null),
            input.user === undefined ? '' : JSON.stringify(input.user),
            this.#fanout(input.channel),
            input.key === undefined ? '0' : '1',
            acked ? '1' : '0',
            ...feed.args,
            this.#cluster ? '1' : '0',
          ],
        ),
      );
    } catch (err) {
      throw toBrokerError(err, 'publish');
    }
    // Stored and fanned out: from here on a failure means "outcome unknown".
    const [epoch, offset, duplicate, ts] = raw as [string, number, number, number];
    if (acked !== undefined) {
      if ('cluster' in acked) await confirmOnShard(acked.cluster, acked.replicas, acked.timeoutMs, meta);
      else await acked.ack.confirm();
    }
    if (this.#cluster && duplicate !== 1 && records(recording, input.channel)) {
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
    const local: LocalChannel = { listener, onEpoch, epoch: '', offset: 0 };
    const fanout = this.#fanout(channel);
    this.#channels.set(channel, local);
    this.#byFanout.set(fanout, channel);
    try {
      await this.#bounded(this.#cluster ? this.#sub.ssubscribe(fanout) : this.#sub.subscribe(fanout), 'subscribe');
    } catch (err) {
      if (this.#channels.get(channel) === local) {
        this.#channels.delete(channel);
        this.#byFanout.delete(fanout);
        if (!this.#closed) this.#unsubscribeFanout(fanout).catch(() => undefined);
      }
      throw toBrokerError(err, 'subscribe');
    }
  }

  #unsubscribeFanout(fanout: string): Promise<unknown> {
    return this.#cluster ? this.#sub.sunsubscribe(fanout) : this.#sub.unsubscribe(fanout);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.#channels.delete(channel)) return;
    const fanout = this.#fanout(channel);
    this.#byFanout.delete(fanout);
    if (this.#closed) return;
    try {
      await this.#unsubscribeFanout(fanout);
    } catch (err) {
      throw toBrokerError(err, 'unsubscribe');
    }
  }

  async history(
    channel: string,
    options: { since: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    this.#assertUp();
    // A read may be cut short: running it again later is harmless.
    return this.#bounded(this.#readHistory(channel, options), 'history');
  }

  /** Reads history without the health check or time bound (catch-up after a reconnect). */
  #readHistory(
    channel: string,
    options: { since: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    return this.#runHistory(HISTORY_SCRIPT, channel, options.since, options.limit, options.history);
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

  /** Runs a history script (`from` is its `since` or `before`). */
  async #runHistory(
    script: typeof HISTORY_SCRIPT,
    channel: string,
    from: number,
    limit: number,
    history: HistoryOptions,
  ): Promise<HistoryRead> {
    let raw: unknown;
    try {
      const identity = this.#cluster ? '' : await this.#identity.get();
      raw = await script.run(this.#redis, this.#keys(channel), [
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
    this.#channels.clear();
    this.#byFanout.clear();
    for (const fn of this.#alsoClose.splice(0)) await fn().catch(this.#onError);
    this.#redis.disconnect();
    this.#sub.disconnect();
    const acked = this.#acked;
    if (acked !== undefined) ('cluster' in acked ? acked.cluster : acked.redis).disconnect();
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
      this.#onError(err, channel);
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
    for (const [channel, local] of this.#channels) {
      if (local.offset === 0) continue;
      const since = local.offset;
      const epoch = local.epoch;
      this.#readHistory(channel, {
        since,
        limit: 10_000,
        history: { size: 10_000, ttlMs: Number.MAX_SAFE_INTEGER },
      }).then(
        (read) => {
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
        },
        (err: unknown) => this.#onError(err, channel),
      );
    }
  }
}
