/** Default most entries of the publication feed (about: trimmed with `MAXLEN ~`). */
export const DEFAULT_FEED_MAX_LEN = 100_000;

/** Keys of a deployment's publication feed. */
export interface FeedKeys {
  /** The stream of recorded publications. */
  readonly feed: string;
  /** Sequence of feed entries (`n`), to count what trimming dropped. */
  readonly counter: string;
  /** The relay lease: the id of the node relaying, with a TTL. */
  readonly lease: string;
  /** The relay's position: `<stream id> <n>` of the last entry handed on. */
  readonly cursor: string;
}

/**
 * Key names of the publication feed under `prefix`. On a Redis Cluster
 * (`cluster`) they share the hash tag `{webhooks}`, so the feed, its counter,
 * lease and cursor live on one shard.
 */
export function feedKeys(prefix: string, cluster = false): FeedKeys {
  const base = cluster ? `${prefix}{webhooks}:feed` : `${prefix}webhooks:feed`;
  return { feed: base, counter: `${base}:n`, lease: `${base}:lease`, cursor: `${base}:cursor` };
}

/** What the broker's publish script needs to record publications in the feed. */
export interface FeedRecording {
  readonly keys: FeedKeys;
  readonly maxLen: number;
  /** Namespaces whose publications are recorded. */
  readonly namespaces: ReadonlySet<string>;
}

/** Whether a publication of `channel` is recorded (its namespace, `ns` of `ns:rest`, is listed). */
export function records(recording: FeedRecording | undefined, channel: string): recording is FeedRecording {
  if (recording === undefined) return false;
  const i = channel.indexOf(':');
  return recording.namespaces.has(i < 0 ? '' : channel.slice(0, i));
}

/**
 * The publish script's feed KEYS (feed, counter) and ARGV (record '1'/'0',
 * MAXLEN, channel) for `channel`. On a Redis Cluster (`cluster`) the feed is
 * on another shard than the channel: the script gets no feed keys and records
 * nothing (the broker appends to the feed after it).
 */
export function feedScriptParts(
  recording: FeedRecording | undefined,
  prefix: string,
  channel: string,
  cluster = false,
): { keys: string[]; args: [string, number, string] } {
  if (cluster) return { keys: [], args: ['0', 0, channel] };
  const { feed, counter } = recording?.keys ?? feedKeys(prefix);
  return { keys: [feed, counter], args: [records(recording, channel) ? '1' : '0', recording?.maxLen ?? 0, channel] };
}
