import { randomBytes } from 'node:crypto';
import { channelTag } from './channel-tag.js';

/** A fresh epoch id, handed to a script that creates one when the channel has none. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/**
 * Names of a channel's keys and fan-out channel under a deployment's prefix.
 * On a Redis Cluster every name carries the channel's hash tag, so a
 * channel's keys and its shard channel are in one slot.
 */
export class ChannelKeys {
  readonly prefix: string;
  readonly cluster: boolean;

  constructor(prefix: string, cluster: boolean) {
    this.prefix = prefix;
    this.cluster = cluster;
  }

  /** Common start of a channel's keys: `{prefix}{channel}` (on a cluster the channel's tag). */
  base(channel: string): string {
    return `${this.prefix}{${this.cluster ? channelTag(channel) : channel}}`;
  }

  /** The channel's meta hash (epoch, position) and history stream. */
  keys(channel: string): [meta: string, stream: string] {
    const base = this.base(channel);
    return [`${base}:m`, `${base}:s`];
  }

  /** The key recording an idempotency key; without one, a name in the slot that the script never writes. */
  idempotency(channel: string, key: string | undefined): string {
    const base = this.base(channel);
    return key === undefined ? `${base}:m:k` : `${base}:k:${key}`;
  }

  /** The fan-out channel; on a cluster a shard channel in the slot of the channel's keys. */
  fanout(channel: string): string {
    return this.cluster ? `${this.prefix}p:{${channelTag(channel)}}` : `${this.prefix}p:${channel}`;
  }
}
