import { randomBytes } from 'node:crypto';
import type { FeedListener, FeedPublication, PublicationFeed } from '@syncline/server';
import { toBrokerError } from './errors.js';
import { DEFAULT_FEED_MAX_LEN, type FeedKeys, feedKeys } from './feed-recording.js';
import { LuaScript } from './lua-script.js';
import type { RedisBroker } from './redis-broker.js';

/** Options of the publication feed. */
export interface RedisPublicationFeedOptions {
  /** About how many entries the feed keeps (`XADD MAXLEN ~`, default 100,000). */
  readonly maxLen?: number | undefined;
  /** Lifetime of the relay lease; a node that stops renewing it is replaced after this long (default 10 s). */
  readonly leaseMs?: number | undefined;
  /** Look at the feed (and at the lease) this often while it is idle (default 200 ms). */
  readonly pollIntervalMs?: number | undefined;
  /** Most entries handed to the listener at once (default 100). */
  readonly batchSize?: number | undefined;
  /** Receives failures (Redis errors, a rejected batch, entries lost to trimming); reported at most every 5 s. */
  readonly onError?: ((err: unknown) => void) | undefined;
}

/** Default lifetime of the relay lease. */
export const DEFAULT_FEED_LEASE_MS = 10_000;
/** Reports failures at most this often. */
const REPORT_EVERY_MS = 5_000;

/** KEYS = lease; ARGV = owner, ttl. Takes the lease when free, renews it when held: 1, else 0. */
const HOLD_SCRIPT = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`);

/** KEYS = lease, cursor; ARGV = owner, ttl, cursor. Moves the cursor only while holding the lease: 1, else 0. */
const ADVANCE_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS = lease; ARGV = owner. Gives the lease up when held. */
const RELEASE_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

type RawFeedEntry = [string, string[]];

/** A feed entry: its sequence number and publication. */
function parse(entry: RawFeedEntry): { n: number; pub: FeedPublication } {
  const f = new Map<string, string>();
  const fields = entry[1];
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  const base = {
    channel: f.get('c') ?? '',
    epoch: f.get('e') ?? '',
    offset: Number(f.get('o')),
    ts: Number(f.get('t')),
    data: JSON.parse(f.get('d') ?? 'null') as unknown,
  };
  const user = f.get('u');
  return { n: Number(f.get('n')), pub: user === undefined ? base : { ...base, user: JSON.parse(user) as string } };
}

/**
 * The publication feed of a Redis deployment (see `PublicationFeed`): the
 * broker's publish script appends each recorded publication to one stream
 * (`{prefix}webhooks:feed`, capped at about `maxLen` entries); the node
 * holding the lease (`SET NX PX`, renewed at every look) reads it after its
 * cursor and moves the cursor (only while still holding the lease) once the
 * listener resolved. On a Redis Cluster the feed's keys share one hash tag
 * (one shard), and the broker appends to the feed right after the publish
 * script rather than inside it. Entries trimmed before the relay read them (the relay
 * down, or behind, for longer than the feed holds) are counted in `lost`
 * and reported through `onError`.
 */
export class RedisPublicationFeed implements PublicationFeed {
  readonly #broker: RedisBroker;
  readonly #keys: FeedKeys;
  readonly #owner = randomBytes(9).toString('base64url');
  readonly #maxLen: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #onError: (err: unknown) => void;
  #listener: FeedListener | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #lastReport = 0;
  #relaying = false;
  #lost = 0;

  constructor(broker: RedisBroker, options: RedisPublicationFeedOptions = {}) {
    this.#broker = broker;
    this.#keys = feedKeys(broker.prefix, broker.cluster);
    this.#maxLen = options.maxLen ?? DEFAULT_FEED_MAX_LEN;
    this.#leaseMs = options.leaseMs ?? DEFAULT_FEED_LEASE_MS;
    this.#pollMs = options.pollIntervalMs ?? 200;
    this.#batchSize = options.batchSize ?? 100;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Feed entries trimmed before a relay read them, noticed by this node. */
  get lost(): number {
    return this.#lost;
  }

  /** Whether this node held the relay lease at its last look (diagnostics). */
  get relaying(): boolean {
    return this.#relaying && !this.#closed;
  }

  /** Records publications of `namespaces` from the next publish on, and relays the feed while holding the lease. */
  start(namespaces: ReadonlySet<string>, listener: FeedListener): void {
    if (this.#listener || this.#closed) return;
    this.#listener = listener;
    this.#broker.recordPublications({ keys: this.#keys, maxLen: this.#maxLen, namespaces });
    this.#loop = this.#run(listener);
  }

  async #run(listener: FeedListener): Promise<void> {
    while (!this.#closed) {
      let more = false;
      try {
        const held =
          (await HOLD_SCRIPT.run(this.#broker.redis, [this.#keys.lease], [this.#owner, this.#leaseMs])) === 1;
        this.#relaying = held;
        if (held && !this.#closed) more = await this.#relay(listener);
      } catch (err) {
        this.#relaying = false;
        this.#report(toBrokerError(err, 'publication feed'));
      }
      if (!more && !this.#closed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** Hands the entries after the cursor to the listener, then moves the cursor; true when more may be waiting. */
  async #relay(listener: FeedListener): Promise<boolean> {
    const redis = this.#broker.redis;
    const cursor = await redis.get(this.#keys.cursor);
    const [afterId = '0-0', afterN = '0'] = cursor?.split(' ') ?? [];
    const raw = (await redis.xrange(this.#keys.feed, `(${afterId}`, '+', 'COUNT', this.#batchSize)) as RawFeedEntry[];
    const last = raw.at(-1);
    if (last === undefined) return false;
    const entries = raw.map(parse);
    const firstN = entries[0]?.n ?? 0;
    try {
      await listener(entries.map((e) => e.pub));
    } catch (err) {
      // Not moved on: the batch is handed again at the next look.
      this.#report(err);
      return false;
    }
    const next = `${last[0]} ${entries.at(-1)?.n ?? 0}`;
    const moved = await ADVANCE_SCRIPT.run(
      redis,
      [this.#keys.lease, this.#keys.cursor],
      [this.#owner, this.#leaseMs, next],
    );
    if (moved !== 1) return false;
    // Counted by the node that moved past the gap, once.
    const gap = cursor === null ? 0 : firstN - Number(afterN) - 1;
    if (gap > 0) {
      this.#lost += gap;
      this.#report(
        new Error(
          `publication feed: ${gap} entries were trimmed before a relay read them (feed kept about ${this.#maxLen}); their webhook events are lost`,
        ),
        true,
      );
    }
    return raw.length === this.#batchSize;
  }

  #report(err: unknown, always = false): void {
    const now = Date.now();
    if (!always && now - this.#lastReport < REPORT_EVERY_MS) return;
    this.#lastReport = now;
    this.#onError(err);
  }

  /** Stops recording and relaying (after the batch in hand) and gives up the lease. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#broker.recordPublications(undefined);
    this.#wake?.();
    await this.#loop;
    if (this.#listener === undefined) return;
    await RELEASE_SCRIPT.run(this.#broker.redis, [this.#keys.lease], [this.#owner]).catch((err: unknown) =>
      this.#report(toBrokerError(err, 'publication feed')),
    );
  }
}
