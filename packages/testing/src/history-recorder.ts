import type {
  ChannelPosition,
  FinalChannelHistory,
  PublishAttempt,
  PublishOutcome,
  RecordedHistory,
  SubscriberEvent,
} from './channel-history.js';

/** The outcome side of one publish attempt: call exactly one method once its fate is known. */
export interface PublishHandle {
  /** The attempt's id in the history. */
  readonly id: number;
  /** The server answered with the publication's position. */
  acked(position: ChannelPosition & { readonly duplicate?: boolean }): void;
  /** The server answered with an error code. */
  failed(code: string): void;
  /** No answer (timeout, connection lost): it may or may not have been applied. */
  unknown(reason: string): void;
}

/** What a publish attempt is, as given to {@link HistoryRecorder.publishInvoked}. */
export interface PublishInvocation {
  readonly publisher: string;
  readonly channel: string;
  readonly key: string;
  readonly payload: unknown;
}

/** A delivery, as given to {@link HistoryRecorder.delivered}. */
export interface DeliveryInput {
  readonly subscriber: string;
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly payload: unknown;
}

/** A subscribe reply, as given to {@link HistoryRecorder.subscribed}. */
export interface SubscribeReplyInput {
  readonly subscriber: string;
  readonly channel: string;
  readonly since?: ChannelPosition | undefined;
  readonly epoch: string;
  readonly offset: number;
  readonly recovered?: boolean | undefined;
}

interface MutableAttempt {
  readonly invocation: PublishInvocation;
  readonly invokedAt: number;
  outcome: PublishOutcome;
  completedAt?: number;
}

/**
 * Records channel traffic as a chaos test makes it, for
 * {@link checkChannelHistory}. Call it from the test's own callbacks as events
 * happen (publish sent and answered, `onPublication`, `subscribed` events,
 * unsubscribes), then add each channel's final history and take
 * {@link HistoryRecorder.history}.
 *
 * Contract: events of one subscriber must be recorded in the order that
 * subscriber saw them; events of different subscribers and publishes may
 * interleave in any order (the checker reasons on offsets, not on time).
 * Recorded values are kept by reference until `history()` is taken; payloads
 * must be JSON values. Not thread-safe beyond the single JS event loop.
 */
export class HistoryRecorder {
  readonly #now: () => number;
  readonly #start: number;
  readonly #attempts: MutableAttempt[] = [];
  readonly #events: SubscriberEvent[] = [];
  readonly #finals = new Map<string, FinalChannelHistory>();

  /** `now` is the clock stamped on events (ms); the history holds times relative to construction. */
  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  #at(): number {
    return Math.round((this.#now() - this.#start) * 1000) / 1000;
  }

  /**
   * Records that a publish was sent; settle the returned handle with its
   * outcome. An attempt never settled counts as `pending` (outcome unknown).
   * A retry with the same key is a new attempt.
   */
  publishInvoked(invocation: PublishInvocation): PublishHandle {
    const attempt: MutableAttempt = { invocation, invokedAt: this.#at(), outcome: { kind: 'pending' } };
    const id = this.#attempts.push(attempt) - 1;
    const settle = (outcome: PublishOutcome): void => {
      if (attempt.outcome.kind !== 'pending') {
        throw new Error(`Publish attempt ${id} was already settled as ${attempt.outcome.kind}`);
      }
      attempt.outcome = outcome;
      attempt.completedAt = this.#at();
    };
    return {
      id,
      acked: ({ epoch, offset, duplicate }) =>
        settle(
          duplicate === undefined ? { kind: 'acked', epoch, offset } : { kind: 'acked', epoch, offset, duplicate },
        ),
      failed: (code) => settle({ kind: 'failed', code }),
      unknown: (reason) => settle({ kind: 'unknown', reason }),
    };
  }

  /** Records one publication handed to a subscriber, with the subscription's epoch at that moment. */
  delivered(d: DeliveryInput): void {
    this.#events.push({
      type: 'delivery',
      subscriber: d.subscriber,
      channel: d.channel,
      epoch: d.epoch,
      offset: d.offset,
      payload: d.payload,
      at: this.#at(),
    });
  }

  /**
   * Records a subscribe or resubscribe reply. With the client SDK, record the
   * `subscribed` event: recovered publications are delivered before it, which
   * the checker expects.
   */
  subscribed(r: SubscribeReplyInput): void {
    this.#events.push({
      type: 'subscribed',
      subscriber: r.subscriber,
      channel: r.channel,
      ...(r.since === undefined ? {} : { since: { epoch: r.since.epoch, offset: r.since.offset } }),
      epoch: r.epoch,
      offset: r.offset,
      ...(r.recovered === undefined ? {} : { recovered: r.recovered }),
      at: this.#at(),
    });
  }

  /**
   * Records that a subscriber stopped its subscription (unsubscribe, or a
   * client closed for good). Until then the checker holds it to every
   * publication of its epoch, up to the end of the history.
   */
  unsubscribed(subscriber: string, channel: string): void {
    this.#events.push({ type: 'unsubscribed', subscriber, channel, at: this.#at() });
  }

  /** Records what the server's history of `channel` holds at the end; the latest call per channel wins. */
  finalHistory(history: FinalChannelHistory): void {
    this.#finals.set(history.channel, {
      channel: history.channel,
      epoch: history.epoch,
      offset: history.offset,
      publications: history.publications.map((p) => ({ offset: p.offset, payload: p.payload })),
    });
  }

  /** Number of events recorded so far (deliveries, replies, unsubscribes). */
  get eventCount(): number {
    return this.#events.length;
  }

  /** A snapshot of everything recorded so far: plain JSON-serialisable data. */
  history(): RecordedHistory {
    const publishes: PublishAttempt[] = this.#attempts.map((a, id) => ({
      id,
      publisher: a.invocation.publisher,
      channel: a.invocation.channel,
      key: a.invocation.key,
      payload: a.invocation.payload,
      outcome: a.outcome,
      invokedAt: a.invokedAt,
      ...(a.completedAt === undefined ? {} : { completedAt: a.completedAt }),
    }));
    return { publishes, events: [...this.#events], finals: [...this.#finals.values()] };
  }
}
