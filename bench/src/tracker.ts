import { nowMs } from './clock.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { Payload } from './payload.js';

/** Publications made, by channel then publisher id. */
export type PublishedCounts = Record<string, Record<string, number>>;

/** Per subscription: the last sequence seen of each publisher. */
interface SubState {
  readonly channel: string;
  readonly last: Map<number, number>;
  /** Sequences skipped over (lost, since delivery is in order). */
  gaps: number;
}

/** A load generator's verdict for one phase. */
export interface TrackerReport {
  readonly deliveries: number;
  readonly unique: number;
  readonly duplicates: number;
  /** Publications expected by subscribers that never arrived. */
  readonly lost: number;
  /** Publications that arrived but were not expected (should be 0). */
  readonly unexpected: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly latency: HistogramData;
}

/**
 * Checks exactly-once, in-order delivery per subscription and records the
 * latency of live deliveries. Each publisher's publications on a channel carry
 * consecutive sequence numbers, so a sequence at or below the last one seen is
 * a duplicate (or a reordering) and the count of new ones is what arrived.
 */
export class Tracker {
  readonly #subs: SubState[] = [];
  #latency = new Histogram();
  #deliveries = 0;
  #unique = 0;
  #duplicates = 0;
  #firstAt = 0;
  #lastAt = 0;
  #target = 0;
  #onTarget: ((at: number) => void) | undefined;

  /** Registers a subscription; returns its index. */
  addSubscription(channel: string): number {
    this.#subs.push({ channel, last: new Map(), gaps: 0 });
    return this.#subs.length - 1;
  }

  /** Number of subscriptions. */
  get subscriptions(): number {
    return this.#subs.length;
  }

  /** Records one received publication. */
  deliver(sub: number, data: unknown, recovered: boolean): void {
    const now = nowMs();
    const pl = data as Payload;
    const st = this.#subs[sub] as SubState;
    this.#deliveries++;
    if (this.#firstAt === 0) this.#firstAt = now;
    this.#lastAt = now;
    const last = st.last.get(pl.p) ?? 0;
    if (pl.s <= last) {
      this.#duplicates++;
      return;
    }
    if (pl.s > last + 1) st.gaps += pl.s - last - 1;
    st.last.set(pl.p, pl.s);
    this.#unique++;
    if (!recovered) this.#latency.record((now - pl.t) * 1000);
    if (this.#unique === this.#target) this.#onTarget?.(now);
  }

  /** Resolves with the time when `target` unique deliveries (since creation) have arrived. */
  whenUnique(target: number, timeoutMs: number): Promise<number | undefined> {
    if (this.#unique >= target) return Promise.resolve(this.#lastAt);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onTarget = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.#target = target;
      this.#onTarget = (at) => {
        clearTimeout(timer);
        this.#onTarget = undefined;
        resolve(at);
      };
    });
  }

  /** Unique deliveries so far. */
  get unique(): number {
    return this.#unique;
  }

  /** Unique deliveries every subscription should have, given what was published. */
  expectedUnique(published: PublishedCounts): number {
    let n = 0;
    for (const s of this.#subs) for (const c of Object.values(published[s.channel] ?? {})) n += c;
    return n;
  }

  /** Verdict against what was published, then clears the phase counters (not positions). */
  report(published: PublishedCounts): TrackerReport {
    let lost = 0;
    let unexpected = 0;
    for (const s of this.#subs) {
      lost += s.gaps;
      const counts = published[s.channel] ?? {};
      for (const [p, c] of Object.entries(counts)) {
        const last = s.last.get(Number(p)) ?? 0;
        if (last < c) lost += c - last;
        if (last > c) unexpected += last - c;
      }
      for (const p of s.last.keys()) if (counts[String(p)] === undefined) unexpected += s.last.get(p) ?? 0;
    }
    const out: TrackerReport = {
      deliveries: this.#deliveries,
      unique: this.#unique,
      duplicates: this.#duplicates,
      lost,
      unexpected,
      firstAt: this.#firstAt,
      lastAt: this.#lastAt,
      latency: this.#latency.toJSON(),
    };
    this.#latency = new Histogram();
    this.#deliveries = 0;
    this.#duplicates = 0;
    this.#firstAt = 0;
    this.#lastAt = 0;
    return out;
  }
}
