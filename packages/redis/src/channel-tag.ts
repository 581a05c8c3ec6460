import { createHash } from 'node:crypto';

/**
 * The hash tag of a channel's keys on a Redis Cluster: the name itself, or
 * (for a name holding `{` or `}`, which would end or open the tag early) a
 * hash of it prefixed with `#`.
 */
export function channelTag(channel: string): string {
  return /^[^{}]+$/.test(channel) ? channel : `#${createHash('sha1').update(channel).digest('hex')}`;
}
