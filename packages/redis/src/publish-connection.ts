import { withDeadline } from '@syncline/server';
import type { Cluster, Redis } from 'ioredis';
import { PUBLISH_SCRIPT } from './broker-scripts.js';
import { newEpoch } from './channel-keys.js';
import { confirmOnShard } from './cluster-publish.js';
import { createCommandConnection, type RedisClient, type RedisTarget } from './redis-connections.js';
import { RedisIdentity } from './redis-identity.js';
import { ReplicaAck } from './replica-ack.js';

/** With `ackReplicas` > 0: the connection publishes run on, and how they wait for replicas. */
type Acked =
  | { readonly redis: Redis; readonly identity: RedisIdentity; readonly ack: ReplicaAck }
  | { readonly cluster: Cluster; readonly replicas: number; readonly timeoutMs: number };

/** What a publish script answered: epoch, offset, 1 when deduplicated, timestamp (ms). */
export type PublishReply = [epoch: string, offset: number, duplicate: number, ts: number];

/**
 * The path a publish takes through Redis: the publish script on the command
 * connection, or, with `ackReplicas` > 0, on a connection of its own
 * followed by `WAIT` (so that reads, presence and health PINGs never queue
 * behind a WAIT). On one Redis the script is given the run_id of the process
 * behind the connection it runs on; on a Redis Cluster the script reads it
 * itself (the node does not know which master runs it), and the whole
 * publish is bounded by the command timeout.
 */
export class PublishConnection {
  readonly #commands: RedisClient;
  readonly #identity: RedisIdentity;
  readonly #cluster: boolean;
  readonly #commandTimeoutMs: number;
  readonly #acked: Acked | undefined;

  /** `commands` and `identity` are the broker's command connection and its run_id. */
  constructor(
    target: RedisTarget,
    commands: RedisClient,
    identity: RedisIdentity,
    options: { readonly commandTimeoutMs: number; readonly ackReplicas: number; readonly ackTimeoutMs: number },
  ) {
    this.#commands = commands;
    this.#identity = identity;
    this.#cluster = commands.isCluster;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    if (options.ackReplicas > 0) {
      const redis = createCommandConnection(target, options.commandTimeoutMs);
      this.#acked = redis.isCluster
        ? { cluster: redis as Cluster, replicas: options.ackReplicas, timeoutMs: options.ackTimeoutMs }
        : {
            redis: redis as Redis,
            identity: new RedisIdentity(redis),
            ack: new ReplicaAck(redis as Redis, options.ackReplicas, options.ackTimeoutMs),
          };
    } else {
      this.#acked = undefined;
    }
  }

  /** Whether publishes wait for replicas (the script then skips the fan-out's own confirmation). */
  get acked(): boolean {
    return this.#acked !== undefined;
  }

  /** The connection of its own publishes run on, if any (its health counts). */
  get own(): RedisClient | undefined {
    const acked = this.#acked;
    return acked === undefined ? undefined : 'cluster' in acked ? acked.cluster : acked.redis;
  }

  /**
   * Runs the publish script with `keys` and the arguments after the epoch
   * and identity. On a Redis Cluster the script may wait in the cluster
   * client's queue (a refresh of the slot map, a node connecting) or be
   * redirected several times before a node runs it, and the per-node
   * timeout covers only its last attempt: past the command timeout its
   * outcome is unknown. On one Redis the connection's own timeout bounds it.
   */
  async run(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<PublishReply> {
    const acked = this.#acked;
    const single = acked === undefined || 'cluster' in acked ? undefined : acked;
    // The identity is read on the connection the script runs on (on a cluster, by the script itself).
    const identity = this.#cluster ? '' : await (single?.identity ?? this.#identity).get();
    const redis = this.own ?? this.#commands;
    const work = PUBLISH_SCRIPT.run(redis, [...keys], [newEpoch(), identity, ...args]);
    const raw = this.#cluster
      ? await withDeadline(work, this.#commandTimeoutMs, () => new Error('Command timed out (Redis Cluster)'))
      : await work;
    return raw as PublishReply;
  }

  /**
   * With `ackReplicas`: waits until enough replicas confirmed the publication
   * stored under `meta`, or rejects with the retryable `timeout`.
   */
  async confirm(meta: string): Promise<void> {
    const acked = this.#acked;
    if (acked === undefined) return;
    if ('cluster' in acked) await confirmOnShard(acked.cluster, acked.replicas, acked.timeoutMs, meta);
    else await acked.ack.confirm();
  }
}
