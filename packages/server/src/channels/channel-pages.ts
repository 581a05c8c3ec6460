import { INTERNAL_NAMESPACE_PREFIX } from '../auth/capabilities.js';
import type { HistoryRead } from '../broker/broker.js';
import type { ResolvedNamespace } from '../namespaces/namespaces.js';

/** One entry of the channel list. */
export interface ChannelEntry {
  readonly channel: string;
  readonly subscribers: number;
  readonly present: number;
}

/** A page of the channel list. */
export interface ChannelPage {
  readonly channels: ChannelEntry[];
  /** The last name of the page, when more channels follow it. */
  readonly next?: string;
}

/** Which part of the channel list to return. */
export interface ChannelPageQuery {
  readonly prefix?: string | undefined;
  readonly after?: string | undefined;
  readonly limit: number;
}

/**
 * One page of the channels that have subscribers or presence entries, sorted
 * by name (UTF-16 code units, as JavaScript compares strings): those starting
 * with `prefix` and sorted after `after`, at most `limit`, with the counts of
 * both maps. `next` is set when more channels follow the page.
 */
export function pageChannels(
  subscribers: ReadonlyMap<string, number>,
  present: ReadonlyMap<string, number>,
  query: ChannelPageQuery,
): ChannelPage {
  const { prefix, after, limit } = query;
  // The server's own channels (the console's) are listed only when asked for by prefix.
  const internal = prefix?.startsWith(INTERNAL_NAMESPACE_PREFIX) === true;
  const names: string[] = [];
  const take = (name: string) => {
    if (!internal && name.startsWith(INTERNAL_NAMESPACE_PREFIX)) return;
    if ((after === undefined || name > after) && (prefix === undefined || name.startsWith(prefix))) names.push(name);
  };
  for (const name of subscribers.keys()) take(name);
  for (const name of present.keys()) if (!subscribers.has(name)) take(name);
  names.sort();
  const channels = names
    .slice(0, limit)
    .map((channel) => ({ channel, subscribers: subscribers.get(channel) ?? 0, present: present.get(channel) ?? 0 }));
  const last = channels[channels.length - 1];
  return names.length > limit && last !== undefined ? { channels, next: last.channel } : { channels };
}

/** What the channel detail shows of a namespace: its options, no schemas or secrets. */
export function namespaceInfo(ns: ResolvedNamespace, publicationWebhooks: number) {
  return {
    name: ns.name,
    history: { size: ns.history.size, ttlMs: ns.history.ttlMs },
    allowPublish: ns.allowPublish,
    recover: ns.recover,
    recoverWindowMs: ns.recoverWindowMs,
    presence: ns.presence,
    ...(ns.presence ? { presenceMaxMembers: ns.presenceMaxMembers } : {}),
    dataSchema: ns.data !== undefined,
    presenceStateSchema: ns.presenceState !== undefined,
    publicationWebhooks,
  };
}

/**
 * A history page as the API answers it: `next` (pass as `since`) when newer
 * publications follow the page, `prev` (pass as `before`) when older retained
 * ones precede it.
 */
export function historyPage(channel: string, read: HistoryRead) {
  const first = read.publications[0];
  const last = read.publications[read.publications.length - 1];
  return {
    channel,
    epoch: read.epoch,
    offset: read.offset,
    minOffset: read.minOffset,
    publications: read.publications,
    ...(last !== undefined && last.offset < read.offset ? { next: last.offset } : {}),
    ...(first !== undefined && first.offset > read.minOffset ? { prev: first.offset } : {}),
  };
}
