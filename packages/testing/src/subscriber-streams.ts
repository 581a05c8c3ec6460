import type { AnomalyLog } from './anomaly-log.js';
import type { ChannelAnomaly } from './channel-anomalies.js';
import type { SubscriberEvent } from './channel-history.js';

/** A jump past missing offsets in one subscriber's stream. */
interface Gap {
  readonly after: number;
  readonly next: number;
  readonly event: number;
  readonly track: EpochTrack;
  readonly stream: Stream;
  /** Offsets of the gap that arrived later (reordered). */
  healed?: Set<number>;
}

/** An interval of offsets a subscriber is held to receive. */
export interface HeldWindow {
  readonly from: number;
  readonly to: number;
}

/** What one subscriber got in one epoch of one channel. */
export interface EpochTrack {
  readonly epoch: string;
  /** Offset → index of the event that delivered it. */
  readonly delivered: Map<number, number>;
  maxDelivered: number;
  readonly gaps: Gap[];
  /** The offsets it was subscribed across (continuously or recovered), closed intervals. */
  readonly windows: HeldWindow[];
}

/** One subscriber's view of one channel. */
export interface Stream {
  readonly subscriber: string;
  readonly channel: string;
  readonly tracks: Map<string, EpochTrack>;
  /** Current epoch, undefined before the first event. */
  epoch: string | undefined;
  /** Current position in `epoch`: the last offset delivered or the reply's offset. */
  pos: number;
  /** First offset of the open window, undefined when not subscribed. */
  windowFrom: number | undefined;
}

/**
 * Replays every subscriber's events in order. Reports duplicate deliveries
 * and reorderings as it goes, gaps (not filled later) in
 * {@link SubscriberStreams.finish}, and keeps per stream and epoch what was
 * delivered and which offsets the subscriber was held to.
 *
 * Rules: a reply with `recovered: true` continues the open window (missed
 * publications are owed); `recovered: false` or a fresh subscribe closes it
 * at the current position (or at `since` when it claims more) and opens a new
 * one after the reply's offset (the skipped part is covered); a delivery in another epoch switches epoch
 * without a gap; an unsubscribe closes the window.
 */
export class SubscriberStreams {
  readonly #streams = new Map<string, Stream>();
  readonly #gaps: Gap[] = [];
  readonly #log: AnomalyLog<ChannelAnomaly>;

  constructor(log: AnomalyLog<ChannelAnomaly>) {
    this.#log = log;
  }

  /** Number of distinct subscribers seen. */
  get subscriberCount(): number {
    const names = new Set<string>();
    for (const s of this.#streams.values()) names.add(s.subscriber);
    return names.size;
  }

  /** Every stream. */
  streams(): IterableIterator<Stream> {
    return this.#streams.values();
  }

  #stream(subscriber: string, channel: string): Stream {
    const k = `${subscriber}\u0000${channel}`;
    let s = this.#streams.get(k);
    if (!s) {
      s = { subscriber, channel, tracks: new Map(), epoch: undefined, pos: 0, windowFrom: undefined };
      this.#streams.set(k, s);
    }
    return s;
  }

  #track(s: Stream, epoch: string): EpochTrack {
    let t = s.tracks.get(epoch);
    if (!t) {
      t = { epoch, delivered: new Map(), maxDelivered: 0, gaps: [], windows: [] };
      s.tracks.set(epoch, t);
    }
    return t;
  }

  /** Closes the open window at `to` (default: the current position). */
  #close(s: Stream, to = s.pos): void {
    if (s.windowFrom !== undefined && s.epoch !== undefined && to >= s.windowFrom) {
      this.#track(s, s.epoch).windows.push({ from: s.windowFrom, to });
    }
    s.windowFrom = undefined;
  }

  /** Applies the event at `index` of the history. */
  apply(e: SubscriberEvent, index: number): void {
    const s = this.#stream(e.subscriber, e.channel);
    if (e.type === 'unsubscribed') {
      this.#close(s);
      return;
    }
    if (e.type === 'subscribed') {
      const since = e.since !== undefined && e.since.epoch === e.epoch ? e.since.offset : undefined;
      if (e.recovered === true && s.epoch === e.epoch) {
        if (since !== undefined && since > s.pos) s.pos = since;
        const from = (since ?? s.pos) + 1;
        s.windowFrom = s.windowFrom === undefined ? from : Math.min(s.windowFrom, from);
      } else if (e.recovered === true) {
        this.#close(s);
        s.epoch = e.epoch;
        s.pos = since ?? e.offset;
        s.windowFrom = s.pos + 1;
      } else {
        // A `since` past what was delivered shows publications skipped silently before the reply: still owed.
        const claimed = e.since !== undefined && e.since.epoch === s.epoch ? e.since.offset : s.pos;
        this.#close(s, Math.max(s.pos, claimed));
        s.epoch = e.epoch;
        s.pos = e.offset;
        s.windowFrom = e.offset + 1;
      }
      return;
    }
    const t = this.#track(s, e.epoch);
    const first = t.delivered.get(e.offset);
    if (first !== undefined) {
      this.#log.add({
        kind: 'duplicate-delivery',
        subscriber: s.subscriber,
        channel: s.channel,
        epoch: e.epoch,
        offset: e.offset,
        payload: e.payload,
        firstEvent: first,
        event: index,
      });
      return;
    }
    t.delivered.set(e.offset, index);
    if (e.offset > t.maxDelivered) t.maxDelivered = e.offset;
    if (s.epoch !== e.epoch) {
      this.#close(s);
      s.epoch = e.epoch;
      s.pos = e.offset;
      s.windowFrom = e.offset;
      return;
    }
    if (e.offset <= s.pos) {
      const gap = t.gaps.find((g) => e.offset > g.after && e.offset < g.next);
      if (gap) {
        gap.healed ??= new Set();
        gap.healed.add(e.offset);
      }
      this.#log.add({
        kind: 'reordering',
        subscriber: s.subscriber,
        channel: s.channel,
        epoch: e.epoch,
        offset: e.offset,
        after: s.pos,
        event: index,
      });
      return;
    }
    if (e.offset > s.pos + 1) {
      const gap: Gap = { after: s.pos, next: e.offset, event: index, track: t, stream: s };
      t.gaps.push(gap);
      this.#gaps.push(gap);
    }
    s.pos = e.offset;
  }

  /**
   * Closes the windows still open at the end at `end(stream)` (at least the
   * current position), then reports every gap some of whose offsets never
   * arrived.
   */
  finish(end: (s: Stream & { epoch: string }) => number): void {
    for (const s of this.#streams.values()) {
      if (s.windowFrom === undefined || s.epoch === undefined) continue;
      this.#close(s, Math.max(s.pos, end(s as Stream & { epoch: string })));
    }
    for (const g of this.#gaps) {
      const width = g.next - g.after - 1;
      const missingCount = width - (g.healed?.size ?? 0);
      if (missingCount <= 0) continue;
      const missing: number[] = [];
      for (let o = g.after + 1; o < g.next && missing.length < 10; o++) if (!g.healed?.has(o)) missing.push(o);
      this.#log.add({
        kind: 'gap',
        subscriber: g.stream.subscriber,
        channel: g.stream.channel,
        epoch: g.track.epoch,
        after: g.after,
        next: g.next,
        missing,
        missingCount,
        event: g.event,
      });
    }
  }

  /** Whether `offset` lies inside a gap of the track (its miss is already reported as that gap). */
  static inGap(t: EpochTrack, offset: number): boolean {
    return t.gaps.some((g) => offset > g.after && offset < g.next && !g.healed?.has(offset));
  }
}
