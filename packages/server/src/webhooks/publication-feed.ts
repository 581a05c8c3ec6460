import { createHash } from 'node:crypto';

/** One publication as a cluster-wide feed records it. */
export interface FeedPublication {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  /** Time it was stored (ms since epoch, the broker's clock). */
  readonly ts: number;
  /** The publishing user (absent for server publishes). */
  readonly user?: string;
  readonly data: unknown;
}

/** Takes one batch of the feed; the feed moves past it only once this resolves. */
export type FeedListener = (batch: readonly FeedPublication[]) => Promise<void>;

/**
 * A deployment-wide record of publications, for brokers whose history lives
 * outside the node (Redis): the broker appends a publication to the feed in
 * the same atomic step as its history append, so a publication is in the
 * feed if and only if it was stored.
 *
 * Contract:
 * - After `start`, publications of channels in `namespaces` are recorded;
 *   others are not.
 * - At most one node of the deployment relays the feed at a time (a lease it
 *   renews; when it stops renewing, another node takes over). The relaying
 *   node hands the feed to `listener` in batches, in the order publications
 *   were stored (so in offset order per channel), and moves its stored
 *   position past a batch only after the listener resolved. A batch whose
 *   listener rejected, or that was in hand when the relaying node died, is
 *   handed again (here or on the next node): at least once.
 * - The feed is bounded: entries that no relay read before they were
 *   trimmed are lost, counted in `lost`, and logged by the feed.
 * - `close` stops relaying (after the batch in hand) and gives up the lease.
 */
export interface PublicationFeed {
  start(namespaces: ReadonlySet<string>, listener: FeedListener): void;
  /** Feed entries trimmed before any relay read them, since this node started. */
  readonly lost: number;
  close(): Promise<void>;
}

/**
 * Id of the `publication` event of a stored publication: the same for the
 * same (channel, epoch, offset) on every node, so a batch handed again after
 * a take-over yields the same event ids (receivers deduplicate on them).
 */
export function publicationEventId(channel: string, epoch: string, offset: number): string {
  const digest = createHash('sha256').update(`${channel}\u0000${epoch}\u0000${offset}`).digest('base64url');
  return `evt_p${digest.slice(0, 22)}`;
}
