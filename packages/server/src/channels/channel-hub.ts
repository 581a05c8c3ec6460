import { jsonCodec, type PubMessage } from '@syncline/protocol';
import type { Broker, BrokerPublication } from '../broker/broker.js';
import type { DeliverySampler } from '../metrics/delivery-sampler.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';
import { OrderedStream } from '../ordering/ordered-stream.js';
import { FANOUT_SLICE_BUDGET_MS } from '../session/flush-scheduler.js';
import { SharedFrame } from '../session/shared-frame.js';
import type { SubscriptionSink } from './subscription-sink.js';

/** Re-exported for the hub's users: the sink type is owned by the session layer. */
export type { SubscriptionSink } from './subscription-sink.js';

interface ChannelState {
  readonly sinks: Set<SubscriptionSink>;
  /** Publications of the current epoch in offset order, gaps repaired from history (restarted on a new epoch). */
  readonly stream: OrderedStream<BrokerPublication>;
  epoch: string;
  ready: Promise<void>;
  history: HistoryOptions;
  /** Set while a sliced fan-out runs; publications received meanwhile wait here, in order. */
  outgoing: BrokerPublication[] | undefined;
}

/** Channels with at least this many local subscribers fan out in slices. */
export const FANOUT_SLICE_MIN_SINKS = 512;
/** Subscribers served between two looks at the clock. */
const FANOUT_CLOCK_EVERY = 128;

/**
 * A publication's `pub` message, as one frame shared by every subscriber
 * (encoded once per codec). When the broker has the data's JSON text, the
 * JSON frame is made around it: the same text `jsonCodec.encode(message)`
 * gives (same keys in the same order), without stringifying the data again.
 * That text is only made when a JSON session asks for the frame: a
 * publication whose subscribers all speak MessagePack never builds it.
 */
export function pubFrame(pub: BrokerPublication): SharedFrame<PubMessage> {
  const message: PubMessage =
    pub.user === undefined
      ? { type: 'pub', channel: pub.channel, offset: pub.offset, ts: pub.ts, data: pub.data ?? null }
      : { type: 'pub', channel: pub.channel, offset: pub.offset, ts: pub.ts, user: pub.user, data: pub.data ?? null };
  const json = pub.json;
  if (json === undefined) return new SharedFrame(message);
  return new SharedFrame(message, { codec: jsonCodec, frame: () => pubJson(pub, json) });
}

/** The JSON `pub` frame of `pub` around `json`, the JSON text of its data. */
function pubJson(pub: BrokerPublication, json: string): string {
  const head = `{"type":"pub","channel":${JSON.stringify(pub.channel)},"offset":${pub.offset},"ts":${pub.ts}`;
  const user = pub.user === undefined ? '' : `,"user":${JSON.stringify(pub.user)}`;
  return `${head}${user},"data":${json}}`;
}

/**
 * Local subscribers of every channel on this node. Subscribes the node to the
 * broker for a channel while it has local subscribers, delivers each
 * publication to every sink once and in offset order, and repairs offset gaps
 * from history before delivering past them.
 */
export class ChannelHub {
  readonly #broker: Broker;
  readonly #channels = new Map<string, ChannelState>();
  readonly #onError: (err: unknown, channel: string) => void;
  readonly #sampler: DeliverySampler | undefined;
  /** Publications fanned out to local subscribers since start (one per publication). */
  publicationsOut = 0;
  /** Publication frames queued on local connections since start. */
  deliveries = 0;
  /**
   * Called with `true` when a channel gets its first local subscriber and
   * with `false` when its last one is gone (or its broker subscribe failed).
   */
  readonly occupancy = new Set<(channel: string, occupied: boolean) => void>();

  /** `sampler` times the delivery of some publications (from their arrival here to their subscribers' sockets). */
  constructor(broker: Broker, onError: (err: unknown, channel: string) => void, sampler?: DeliverySampler) {
    this.#broker = broker;
    this.#onError = onError;
    this.#sampler = sampler;
  }

  /** Number of channels with local subscribers. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Local subscriber count per channel. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, ch] of this.#channels) out.set(name, ch.sinks.size);
    return out;
  }

  /** Adds a sink; resolves once the node receives the channel's publications. */
  add(channel: string, sink: SubscriptionSink, history: HistoryOptions): Promise<void> {
    let ch = this.#channels.get(channel);
    if (!ch) {
      const state: ChannelState = {
        sinks: new Set(),
        stream: new OrderedStream<BrokerPublication>({
          position: (pub) => pub.offset,
          onArrive: (pub) => this.#arrive(state, pub),
          fill: (after, before) => this.#fill(state, after, before),
          deliver: (pub) => this.#deliver(state, pub),
          onError: (err) => this.#onError(err, channel),
        }),
        epoch: '',
        ready: Promise.resolve(),
        history,
        outgoing: undefined,
      };
      const sampler = this.#sampler;
      state.ready = this.#broker.subscribe(
        channel,
        (pub) => {
          if (sampler?.armed) sampler.arrived(pub);
          state.stream.receive(pub);
        },
        (epoch, offset) => this.#epochChanged(state, epoch, offset),
      );
      ch = state;
      this.#channels.set(channel, ch);
      state.ready.catch((err: unknown) => {
        if (this.#channels.get(channel) === state) {
          this.#channels.delete(channel);
          this.#occupied(channel, false);
        }
        this.#onError(err, channel);
      });
      this.#occupied(channel, true);
    }
    ch.sinks.add(sink);
    return ch.ready;
  }

  /** Removes a sink; the node leaves the channel when it was the last. */
  remove(channel: string, sink: SubscriptionSink): void {
    const ch = this.#channels.get(channel);
    if (!ch) return;
    ch.sinks.delete(sink);
    if (ch.sinks.size === 0) {
      this.#channels.delete(channel);
      this.#occupied(channel, false);
      this.#broker.unsubscribe(channel).catch((err: unknown) => this.#onError(err, channel));
    }
  }

  #occupied(channel: string, occupied: boolean): void {
    for (const listener of this.occupancy) {
      try {
        listener(channel, occupied);
      } catch (err) {
        this.#onError(err, channel);
      }
    }
  }

  /** A publication taken up in order (not while a repair is in flight): a new epoch restarts the channel's stream. */
  #arrive(ch: ChannelState, pub: BrokerPublication): void {
    if (ch.epoch !== pub.epoch) {
      ch.epoch = pub.epoch;
      ch.stream.restart(0);
      this.#resetStale(ch);
    }
  }

  /** The broker found a new epoch with no publication in it yet: subscribers of the old one resubscribe now. */
  #epochChanged(ch: ChannelState, epoch: string, offset: number): void {
    if (ch.stream.repairing || ch.epoch === epoch) return;
    ch.epoch = epoch;
    ch.stream.restart(offset);
    this.#resetStale(ch);
  }

  /**
   * Reads the publications missing before `before` from history; those of
   * another epoch than the channel's are not used. What history cannot fill
   * (lost, failed read, another epoch) is passed after this one attempt, and
   * subscribers recover it through history themselves.
   */
  async #fill(ch: ChannelState, after: number, before: BrokerPublication): Promise<BrokerPublication[]> {
    const read = await this.#broker.history(before.channel, {
      since: after,
      limit: before.offset - after - 1,
      history: ch.history,
    });
    if (read.epoch !== ch.epoch) return [];
    return read.publications.map((p) => ({ ...p, channel: before.channel, epoch: read.epoch }));
  }

  /** Hands a publication (in offset order, each once: the stream sees to it) to the channel's sinks. */
  #deliver(ch: ChannelState, pub: BrokerPublication): void {
    this.publicationsOut++;
    if (ch.outgoing) {
      ch.outgoing.push(pub);
      return;
    }
    if (ch.sinks.size < FANOUT_SLICE_MIN_SINKS) {
      this.#fanOut(ch, [pub], [], ch.sinks);
      return;
    }
    // Large channel: publications of this tick are gathered (one write per
    // connection for all of them), then fanned out in slices.
    ch.outgoing = [pub];
    queueMicrotask(() => this.#round(ch));
  }

  /** Hands `pubs` to every sink of a small channel, synchronously. */
  #fanOut(
    ch: ChannelState,
    pubs: readonly BrokerPublication[],
    frames: SharedFrame[],
    sinks: Iterable<SubscriptionSink>,
  ): void {
    let n = 0;
    for (const sink of sinks) n += this.#toSink(ch, pubs, frames, sink);
    this.deliveries += n;
  }

  /**
   * Hands `pubs` (in offset order) to one sink; `frames` caches the encoded
   * frame of each publication (encoded once, shared by every connection).
   * Returns the number of frames queued.
   */
  #toSink(ch: ChannelState, pubs: readonly BrokerPublication[], frames: SharedFrame[], sink: SubscriptionSink): number {
    if (sink.status === 'pending') {
      for (const pub of pubs) sink.buffer.push(pub);
      return 0;
    }
    let n = 0;
    for (let i = 0; i < pubs.length; i++) {
      const pub = pubs[i] as BrokerPublication;
      if (pub.offset <= sink.lastOffset) continue;
      // A publication queued before the channel's epoch changed only goes to
      // subscribers positioned in that epoch.
      if (pub.epoch !== ch.epoch && sink.epoch !== undefined && sink.epoch !== pub.epoch) continue;
      sink.lastOffset = pub.offset;
      let frame = frames[i];
      if (frame === undefined) {
        frame = pubFrame(pub);
        this.#sampler?.framed(pub, frame);
        frames[i] = frame;
      }
      sink.push(frame);
      n++;
    }
    return n;
  }

  /**
   * One round of a sliced fan-out: every publication queued so far goes to
   * every subscriber present when the round starts, a slice at a time, each
   * slice running at most `FANOUT_SLICE_BUDGET_MS` before yielding (so
   * connections of earlier slices are written while later ones wait).
   * Publications arriving meanwhile wait for the next round, which keeps each
   * subscriber's offset order.
   */
  #round(ch: ChannelState): void {
    const pubs = ch.outgoing ?? [];
    ch.outgoing = [];
    const frames: SharedFrame[] = [];
    const sinks = [...ch.sinks];
    let next = 0;
    const slice = (): void => {
      const deadline = performance.now() + FANOUT_SLICE_BUDGET_MS;
      while (next < sinks.length) {
        const end = Math.min(sinks.length, next + FANOUT_CLOCK_EVERY);
        let n = 0;
        for (; next < end; next++) {
          const sink = sinks[next] as SubscriptionSink;
          // Skips subscribers that left since the round started.
          if (ch.sinks.has(sink)) n += this.#toSink(ch, pubs, frames, sink);
        }
        this.deliveries += n;
        if (next < sinks.length && performance.now() >= deadline) {
          setImmediate(slice);
          return;
        }
      }
      if (ch.outgoing && ch.outgoing.length > 0) setImmediate(() => this.#round(ch));
      else ch.outgoing = undefined;
    };
    slice();
  }

  /** Ends active subscriptions whose position belongs to an older epoch of the channel. */
  #resetStale(ch: ChannelState): void {
    for (const sink of [...ch.sinks]) {
      if (sink.status === 'active' && sink.reset && sink.epoch !== undefined && sink.epoch !== ch.epoch) sink.reset();
    }
  }

  /** Marks a sink active and delivers what it buffered past its position. */
  activate(sink: SubscriptionSink): void {
    sink.status = 'active';
    const buffered = sink.buffer;
    sink.buffer = [];
    if (sink.reset && sink.epoch !== undefined && buffered.some((p) => p.epoch !== sink.epoch)) {
      sink.reset();
      return;
    }
    for (const pub of buffered) {
      if (pub.offset <= sink.lastOffset) continue;
      sink.lastOffset = pub.offset;
      sink.push(pubFrame(pub));
      this.deliveries++;
    }
  }
}
