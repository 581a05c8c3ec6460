import type { AnomalyLog } from './anomaly-log.js';
import type { ChannelAnomaly, PositionSource } from './channel-anomalies.js';
import type { PublishAttempt } from './channel-history.js';

/** A payload as seen at a position: its identity, its value and where it was seen. */
export interface SeenPayload {
  readonly key: string;
  readonly payload: unknown;
  readonly source: PositionSource;
}

/** An acknowledgement of a publish at a position. */
export interface AckAt {
  readonly key: string;
  readonly attempt: PublishAttempt;
}

/** What is known of one (channel, epoch, offset). */
export interface PositionInfo {
  /** The first payload observed there (delivery or final history). */
  observed?: SeenPayload;
  /** Other payloads observed there, first of each. */
  conflicts?: SeenPayload[];
  acks?: AckAt[];
  /** Some subscriber got it. */
  delivered: boolean;
  /** The final history holds it. */
  inFinal: boolean;
}

/** The positions of one channel epoch. */
export interface EpochPositions {
  readonly channel: string;
  readonly epoch: string;
  readonly byOffset: Map<number, PositionInfo>;
  /** Highest offset known in the epoch (positions, acks, final history's last offset). */
  maxOffset: number;
  /** First observed offset of each attributed payload. */
  readonly payloadAt: Map<string, number>;
  sorted?: number[] | undefined;
}

/** Who published a payload: one key, or `null` when several keys sent equal payloads. */
export type Attribution = { readonly publisher: string; readonly key: string } | null;

/** `channel\0epoch`: the key of an epoch in maps. */
export const epochKey = (channel: string, epoch: string): string => `${channel}\u0000${epoch}`;

/**
 * Every (channel, epoch, offset) of a history with what was seen there:
 * payloads from deliveries and the final history (observations), and acks.
 * Reports duplicate publications as observations come in, and divergent
 * positions and ack/payload mismatches in {@link ChannelPositions.classify}.
 */
export class ChannelPositions {
  readonly #epochs = new Map<string, EpochPositions>();
  readonly #attribution: ReadonlyMap<string, Attribution>;
  readonly #log: AnomalyLog<ChannelAnomaly>;
  /** `channel\0payloadKey` → first observed position, across epochs. */
  readonly #observedPayload = new Map<string, { epoch: string; offset: number }>();
  readonly #reportedDuplicates = new Set<string>();

  /** `attribution` maps `channel\0payloadKey` to the key that published it. */
  constructor(attribution: ReadonlyMap<string, Attribution>, log: AnomalyLog<ChannelAnomaly>) {
    this.#attribution = attribution;
    this.#log = log;
  }

  /** The epoch's positions, created empty when unknown. */
  epoch(channel: string, epoch: string): EpochPositions {
    const k = epochKey(channel, epoch);
    let ep = this.#epochs.get(k);
    if (!ep) {
      ep = { channel, epoch, byOffset: new Map(), maxOffset: 0, payloadAt: new Map() };
      this.#epochs.set(k, ep);
    }
    return ep;
  }

  /** The epoch's positions if any was seen. */
  find(channel: string, epoch: string): EpochPositions | undefined {
    return this.#epochs.get(epochKey(channel, epoch));
  }

  /** Number of distinct positions seen. */
  get size(): number {
    let n = 0;
    for (const ep of this.#epochs.values()) n += ep.byOffset.size;
    return n;
  }

  #info(ep: EpochPositions, offset: number): PositionInfo {
    let info = ep.byOffset.get(offset);
    if (!info) {
      info = { delivered: false, inFinal: false };
      ep.byOffset.set(offset, info);
      ep.sorted = undefined;
      if (offset > ep.maxOffset) ep.maxOffset = offset;
    }
    return info;
  }

  /** Records a payload observed at a position (a delivery or the final history). */
  observe(channel: string, epoch: string, offset: number, seen: SeenPayload): void {
    const ep = this.epoch(channel, epoch);
    const info = this.#info(ep, offset);
    if (seen.source.from === 'delivery') info.delivered = true;
    else if (seen.source.from === 'final-history') info.inFinal = true;
    if (!info.observed) {
      info.observed = seen;
      this.#notePayload(ep, offset, seen);
    } else if (info.observed.key !== seen.key) {
      info.conflicts ??= [];
      if (!info.conflicts.some((c) => c.key === seen.key)) {
        info.conflicts.push(seen);
        this.#notePayload(ep, offset, seen);
      }
    }
  }

  #notePayload(ep: EpochPositions, offset: number, seen: SeenPayload): void {
    const channelPayload = epochKey(ep.channel, seen.key);
    if (!this.#observedPayload.has(channelPayload))
      this.#observedPayload.set(channelPayload, { epoch: ep.epoch, offset });
    const who = this.#attribution.get(channelPayload);
    if (!who) return;
    const first = ep.payloadAt.get(seen.key);
    if (first === undefined) {
      ep.payloadAt.set(seen.key, offset);
      return;
    }
    if (first === offset) return;
    const id = `${epochKey(ep.channel, ep.epoch)}\u0000${seen.key}\u0000${offset}`;
    if (this.#reportedDuplicates.has(id)) return;
    this.#reportedDuplicates.add(id);
    this.#log.add({
      kind: 'duplicate-publication',
      channel: ep.channel,
      epoch: ep.epoch,
      publisher: who.publisher,
      key: who.key,
      payload: seen.payload,
      firstOffset: first,
      offset,
    });
  }

  /** Records an acknowledgement (`attempt.outcome` is `acked`) whose sent payload has identity `key`. */
  ack(attempt: PublishAttempt, key: string): void {
    if (attempt.outcome.kind !== 'acked') return;
    const ep = this.epoch(attempt.channel, attempt.outcome.epoch);
    const info = this.#info(ep, attempt.outcome.offset);
    info.acks ??= [];
    info.acks.push({ key, attempt });
  }

  /** Raises the epoch's highest known offset (e.g. the final history's last offset). */
  noteOffset(channel: string, epoch: string, offset: number): void {
    const ep = this.epoch(channel, epoch);
    if (offset > ep.maxOffset) ep.maxOffset = offset;
  }

  /** Where a payload of `channel` was first observed, in any epoch. */
  observedAt(channel: string, payloadKey: string): { epoch: string; offset: number } | undefined {
    return this.#observedPayload.get(epochKey(channel, payloadKey));
  }

  /** The epoch's known offsets, ascending. */
  sortedOffsets(ep: EpochPositions): readonly number[] {
    ep.sorted ??= [...ep.byOffset.keys()].sort((a, b) => a - b);
    return ep.sorted;
  }

  /** Every epoch seen. */
  epochs(): IterableIterator<EpochPositions> {
    return this.#epochs.values();
  }

  /**
   * Reports, once per position: `divergent-position` when observations
   * disagree (or, unobserved, acks of different payloads claim it), else
   * `ack-payload-mismatch` when an ack's sent payload differs from the one
   * observed there.
   */
  classify(): void {
    for (const ep of this.#epochs.values()) {
      for (const [offset, info] of ep.byOffset) {
        const acks = info.acks ?? [];
        if (info.observed && info.conflicts) {
          const seen = [info.observed, ...info.conflicts];
          for (const a of acks) if (!seen.some((s) => s.key === a.key)) seen.push(ackSeen(a));
          this.#divergent(ep, offset, seen);
        } else if (info.observed) {
          const held = info.observed;
          const wrong = acks.find((a) => a.key !== held.key);
          if (wrong) {
            this.#log.add({
              kind: 'ack-payload-mismatch',
              channel: ep.channel,
              epoch: ep.epoch,
              offset,
              publish: wrong.attempt.id,
              key: wrong.attempt.key,
              sent: wrong.attempt.payload,
              held: held.payload,
            });
          }
        } else if (acks.length > 1) {
          const seen: SeenPayload[] = [];
          for (const a of acks) if (!seen.some((s) => s.key === a.key)) seen.push(ackSeen(a));
          if (seen.length > 1) this.#divergent(ep, offset, seen);
        }
      }
    }
  }

  #divergent(ep: EpochPositions, offset: number, seen: readonly SeenPayload[]): void {
    this.#log.add({
      kind: 'divergent-position',
      channel: ep.channel,
      epoch: ep.epoch,
      offset,
      payloads: seen.map((s) => ({ payload: s.payload, source: s.source })),
    });
  }
}

function ackSeen(a: AckAt): SeenPayload {
  return {
    key: a.key,
    payload: a.attempt.payload,
    source: { from: 'ack', publish: a.attempt.id, publisher: a.attempt.publisher, key: a.attempt.key },
  };
}
