import type { Session } from './session.js';

/** A fan-out slice (session flushes, the channel hub's deliveries) yields to the event loop after running this long. */
export const FANOUT_SLICE_BUDGET_MS = 4;

/**
 * Flushes every session touched in a tick together, in slices of at most
 * `FANOUT_SLICE_BUDGET_MS`: the writes of a large fan-out never block the
 * event loop for long (sessions not reached keep their frames queued, in
 * order, and go first in the next slice).
 *
 * Delivery timing: a session's flush returns the arrival time of a sampled
 * publication it wrote (see `DeliverySampler`). At the end of each slice,
 * `onSampled` is called once per distinct sampled publication written in
 * it, with the seconds from its arrival to then: the time its last
 * subscriber of the slice was written. One clock read per slice that wrote
 * one, nothing per session.
 */
export class FlushScheduler {
  #dirty: Session[] = [];
  #scheduled = false;
  readonly #onSampled: ((seconds: number) => void) | undefined;
  /** Arrival times of the sampled publications written in the current slice. */
  readonly #sampled: number[] = [];
  readonly #flushAll = (): void => {
    this.#scheduled = false;
    const list = this.#dirty;
    this.#dirty = [];
    const deadline = performance.now() + FANOUT_SLICE_BUDGET_MS;
    let last: number | undefined;
    for (let i = 0; i < list.length; i++) {
      const sampledAt = (list[i] as Session).flush();
      if (sampledAt !== undefined && sampledAt !== last) last = this.#noteSampled(sampledAt);
      if ((i & 63) === 63 && i + 1 < list.length && performance.now() >= deadline) {
        this.#dirty = this.#dirty.length === 0 ? list.slice(i + 1) : list.slice(i + 1).concat(this.#dirty);
        this.#arm();
        this.#settle();
        return;
      }
    }
    this.#settle();
  };

  /** `onSampled` receives the delivery time of sampled publications, seconds (one call per publication per slice). */
  constructor(onSampled?: (seconds: number) => void) {
    this.#onSampled = onSampled;
  }

  /** Queues a session for the next flush round. */
  schedule(session: Session): void {
    this.#dirty.push(session);
    this.#arm();
  }

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flushAll);
  }

  #noteSampled(at: number): number {
    if (!this.#sampled.includes(at)) this.#sampled.push(at);
    return at;
  }

  /** Records the sampled publications written in the slice that just ended. */
  #settle(): void {
    const sampled = this.#sampled;
    if (sampled.length === 0) return;
    const now = performance.now();
    for (const at of sampled) this.#onSampled?.((now - at) / 1000);
    sampled.length = 0;
  }
}
