import type { PresenceAction, PresenceEntry } from '@syncline/protocol';
import {
  type PresenceChange,
  type PresenceEnterLimits,
  type PresenceLimitName,
  type PresenceOwner,
  type PresenceSnapshot,
  type PresenceStore,
  presenceLimitExceeded,
} from '@syncline/server';
import { channelTag } from './channel-tag.js';
import { toBrokerError } from './errors.js';
import { ENTER_SCRIPT, LEAVE_SCRIPT, LIST_SCRIPT, UPDATE_SCRIPT } from './presence-scripts.js';
import { checkClusterPrefix, type RedisClient, type RedisStoreOptions } from './redis-connections.js';

/** Options of the Redis presence store. */
export type RedisPresenceStoreOptions = RedisStoreOptions;

function fieldOf(user: string, clientId: string): string {
  return `${user}\u0000${clientId}`;
}

/** Decodes a stored value `node \t session \t enteredAt \t updatedAt \t base \t state`. */
function decode(value: string): { owner: PresenceOwner; entry: PresenceEntry } {
  const parts = value.split('\t');
  const [node, session, enteredAt, updatedAt, base, state] = parts as [string, string, string, string, string, string];
  const b = JSON.parse(base) as { user: string; clientId: string; info?: unknown };
  const entry: PresenceEntry =
    b.info === undefined
      ? {
          user: b.user,
          clientId: b.clientId,
          state: JSON.parse(state),
          enteredAt: Number(enteredAt),
          updatedAt: Number(updatedAt),
        }
      : {
          user: b.user,
          clientId: b.clientId,
          state: JSON.parse(state),
          info: b.info,
          enteredAt: Number(enteredAt),
          updatedAt: Number(updatedAt),
        };
  return { owner: { node, session }, entry };
}

/**
 * Presence entries in Redis, shared by every node: one hash per channel
 * (with a hash of entry counts per user beside it, for the per-user limit), a
 * set of channels with entries, an index of entries per owning node, node
 * heartbeats in a sorted set, and one sequence counter. Each change is one
 * Lua script, so it is atomic and gets its `seq` in the same step. The
 * entries of a node that stops heartbeating (crashed) are removed by any live
 * node's `expire`, each exactly once.
 *
 * On a Redis Cluster a channel's entries, per-user counts and sequence
 * counter (`{prefix}pres:{channel}:q`: `seq` is then per channel, which is
 * all its readers compare) share the channel's hash tag, so each change is
 * one script on the channel's shard. The node-wide sets (channels with
 * entries, entries per owning node, node heartbeats) share the tag `{n}` on
 * one shard and are updated beside the script: a node's entry is indexed
 * before it is stored (so a crashed node's entries are always found), and
 * unindexed after it is removed; a stale index entry is harmless.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: RedisClient;
  readonly #p: string;
  readonly #cluster: boolean;

  constructor(options: RedisPresenceStoreOptions) {
    this.#redis = options.redis;
    this.#cluster = options.redis.isCluster;
    const prefix = options.prefix ?? 'syncline:';
    if (this.#cluster) checkClusterPrefix(prefix);
    this.#p = `${prefix}pres:`;
  }

  #seqKey(channel: string): string {
    return this.#cluster ? `${this.#p}{${channelTag(channel)}}:q` : `${this.#p}seq`;
  }

  #tag(channel: string): string {
    return this.#cluster ? channelTag(channel) : channel;
  }

  #hash(channel: string): string {
    return `${this.#p}{${this.#tag(channel)}}:e`;
  }

  /** Entries per user in a channel (same hash slot as the channel's entries). */
  #userCounts(channel: string): string {
    return `${this.#p}{${this.#tag(channel)}}:u`;
  }

  #channelsKey(): string {
    return this.#cluster ? `${this.#p}{n}:channels` : `${this.#p}channels`;
  }

  #nodeIndexPrefix(): string {
    return this.#cluster ? `${this.#p}{n}:node:` : `${this.#p}node:`;
  }

  #nodesKey(): string {
    return this.#cluster ? `${this.#p}{n}:nodes` : `${this.#p}nodes`;
  }

  /** Runs node-wide bookkeeping beside a script on a Redis Cluster. */
  async #side(work: Promise<unknown>, op: string): Promise<void> {
    try {
      await work;
    } catch (err) {
      throw toBrokerError(err, op);
    }
  }

  async #run(script: typeof ENTER_SCRIPT, keys: string[], args: Array<string | number>, op: string): Promise<unknown> {
    try {
      return await script.run(this.#redis, keys, args);
    } catch (err) {
      throw toBrokerError(err, op);
    }
  }

  #change(channel: string, raw: unknown): PresenceChange | undefined {
    if (raw === null || raw === undefined) return undefined;
    const [seq, action, value] = raw as [number, PresenceAction, string];
    return { channel, seq: Number(seq), action, entry: decode(value).entry };
  }

  async enter(
    channel: string,
    entry: PresenceEntry,
    owner: PresenceOwner,
    limits?: PresenceEnterLimits,
  ): Promise<PresenceChange> {
    const base = JSON.stringify(
      entry.info === undefined
        ? { user: entry.user, clientId: entry.clientId }
        : { user: entry.user, clientId: entry.clientId, info: entry.info },
    );
    const field = fieldOf(entry.user, entry.clientId);
    const index = `${this.#nodeIndexPrefix()}${owner.node}`;
    const ref = `${channel}\n${field}`;
    // On a cluster the entry is indexed under its node first: were the node
    // to die before storing it, the stale reference would be harmless.
    if (this.#cluster) await this.#side(this.#redis.sadd(index, ref), 'presence enter');
    const raw = await this.#run(
      ENTER_SCRIPT,
      this.#cluster
        ? [this.#seqKey(channel), this.#hash(channel), this.#userCounts(channel)]
        : [this.#seqKey(channel), this.#hash(channel), this.#channelsKey(), index, this.#userCounts(channel)],
      [
        channel,
        field,
        owner.node,
        owner.session,
        entry.enteredAt,
        entry.updatedAt,
        base,
        JSON.stringify(entry.state ?? null),
        this.#nodeIndexPrefix(),
        entry.user,
        limits?.maxPerUser ?? Number.MAX_SAFE_INTEGER,
        limits?.maxEntries ?? Number.MAX_SAFE_INTEGER,
        this.#cluster ? '0' : '1',
      ],
      'presence enter',
    );
    const [, action, limit, priorNode] = raw as [number, string, string, string | undefined];
    if (this.#cluster) {
      if (action === 'refused') {
        await this.#side(this.#redis.srem(index, ref), 'presence enter');
      } else {
        await this.#side(this.#redis.sadd(this.#channelsKey(), channel), 'presence enter');
        if (priorNode && priorNode !== owner.node) {
          await this.#side(this.#redis.srem(`${this.#nodeIndexPrefix()}${priorNode}`, ref), 'presence enter');
        }
      }
    }
    if (action === 'refused' && limits) {
      const name = limit as PresenceLimitName;
      throw presenceLimitExceeded(name, name === 'maxMembers' ? limits.maxEntries : limits.maxPerUser);
    }
    return this.#change(channel, raw) as PresenceChange;
  }

  async update(
    channel: string,
    user: string,
    clientId: string,
    state: unknown,
    now: number,
  ): Promise<PresenceChange | undefined> {
    const raw = await this.#run(
      UPDATE_SCRIPT,
      [this.#seqKey(channel), this.#hash(channel)],
      [fieldOf(user, clientId), now, JSON.stringify(state ?? null)],
      'presence update',
    );
    return this.#change(channel, raw);
  }

  async leave(
    channel: string,
    user: string,
    clientId: string,
    onlyOwner?: PresenceOwner,
  ): Promise<PresenceChange | undefined> {
    return this.#leave(channel, fieldOf(user, clientId), onlyOwner?.node ?? '', onlyOwner?.session ?? '');
  }

  async #leave(channel: string, field: string, node: string, session: string): Promise<PresenceChange | undefined> {
    const user = field.slice(0, field.indexOf('\u0000'));
    const raw = await this.#run(
      LEAVE_SCRIPT,
      this.#cluster
        ? [this.#seqKey(channel), this.#hash(channel), this.#userCounts(channel)]
        : [this.#seqKey(channel), this.#hash(channel), this.#channelsKey(), this.#userCounts(channel)],
      [channel, field, node, session, this.#nodeIndexPrefix(), user, this.#cluster ? '0' : '1'],
      'presence leave',
    );
    if (this.#cluster && raw !== null && raw !== undefined) {
      const [, , prior, empty] = raw as [number, string, string, number];
      const owner = prior.slice(0, prior.indexOf('\t'));
      await this.#side(
        this.#redis.srem(`${this.#nodeIndexPrefix()}${owner}`, `${channel}\n${field}`),
        'presence leave',
      );
      if (Number(empty) === 1) {
        // An enter racing with this leave adds the channel back after its
        // script; re-check so that the channel is never left out while it has entries.
        await this.#side(this.#redis.srem(this.#channelsKey(), channel), 'presence leave');
        if ((await this.#redis.hlen(this.#hash(channel)).catch(() => 1)) > 0) {
          await this.#side(this.#redis.sadd(this.#channelsKey(), channel), 'presence leave');
        }
      }
    }
    return this.#change(channel, raw);
  }

  async list(channel: string): Promise<PresenceSnapshot> {
    const raw = await this.#run(LIST_SCRIPT, [this.#seqKey(channel), this.#hash(channel)], [], 'presence list');
    const [seq, values] = raw as [number, string[]];
    return { seq: Number(seq), entries: values.map((v) => decode(v).entry) };
  }

  async channels(): Promise<ReadonlyMap<string, number>> {
    try {
      const names = await this.#redis.smembers(this.#channelsKey());
      const out = new Map<string, number>();
      if (names.length === 0) return out;
      let counts: number[];
      if (this.#cluster) {
        // The hashes are spread over the shards: one command each (ioredis
        // sends those of one shard together).
        counts = await Promise.all(names.map((n) => this.#redis.hlen(this.#hash(n))));
      } else {
        const pipe = this.#redis.pipeline();
        for (const n of names) pipe.hlen(this.#hash(n));
        counts = ((await pipe.exec()) ?? []).map((r) => Number(r?.[1] ?? 0));
      }
      names.forEach((n, i) => {
        const c = Number(counts[i] ?? 0);
        if (c > 0) out.set(n, c);
      });
      return out;
    } catch (err) {
      throw toBrokerError(err, 'presence channels');
    }
  }

  async heartbeat(node: string, now: number): Promise<void> {
    try {
      await this.#redis.zadd(this.#nodesKey(), now, node);
    } catch (err) {
      throw toBrokerError(err, 'presence heartbeat');
    }
  }

  async expire(now: number, nodeTtlMs: number): Promise<PresenceChange[]> {
    let dead: string[];
    try {
      dead = await this.#redis.zrangebyscore(this.#nodesKey(), '-inf', `(${now - nodeTtlMs}`);
    } catch (err) {
      throw toBrokerError(err, 'presence expire');
    }
    const out: PresenceChange[] = [];
    for (const node of dead) {
      const index = `${this.#nodeIndexPrefix()}${node}`;
      const refs = await this.#redis.smembers(index).catch((err: unknown) => {
        throw toBrokerError(err, 'presence expire');
      });
      for (const ref of refs) {
        const at = ref.indexOf('\n');
        const change = await this.#leave(ref.slice(0, at), ref.slice(at + 1), node, '');
        if (change) out.push(change);
      }
      // Only a node still silent is forgotten (it may have come back meanwhile).
      await this.#redis
        .eval(
          "if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0') < tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]); if redis.call('SCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end end",
          2,
          this.#nodesKey(),
          index,
          node,
          now - nodeTtlMs,
        )
        .catch((err: unknown) => {
          throw toBrokerError(err, 'presence expire');
        });
    }
    return out;
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }
}
