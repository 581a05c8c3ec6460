import type { SharedFrame } from '../session/shared-frame.js';

/** At most one publication a node fans out is sampled per this interval, ms. */
export const DELIVERY_SAMPLE_INTERVAL_MS = 10;
/**
 * Once the interval has passed, the sampled publication is one of the next
 * this many to arrive, at random: under load it is not always the first of
 * a burst (whose subscribers are written first).
 */
export const DELIVERY_SAMPLE_SPREAD = 4;

/**
 * Picks the publications whose delivery a node times, so that timing costs
 * the hot path a field read per publication and nothing per subscriber.
 *
 * The channel hub tells it of each publication it receives while `armed`
 * (`arrived`: the moment the node has it to fan out, from the monotonic
 * clock); one of them is taken, and the sampler disarms for
 * {@link DELIVERY_SAMPLE_INTERVAL_MS}. When the hub builds the taken
 * publication's shared frame (`framed`), the frame carries the arrival time;
 * the sessions that write it report the time back to the flush scheduler,
 * which records one observation per sampled publication per flush slice.
 */
export class DeliverySampler {
  /** True while the next publication to arrive may be taken (the only thing the hub reads per publication). */
  armed = true;
  #skip = 0;
  #taken: object | undefined;
  #takenAt = 0;
  readonly #rearm = (): void => {
    this.armed = true;
    this.#skip = Math.floor(Math.random() * DELIVERY_SAMPLE_SPREAD);
  };

  /** A publication arrived while armed; `at` defaults to now (`performance.now()`, ms). */
  arrived(publication: object, at: number = performance.now()): void {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.armed = false;
    this.#taken = publication;
    this.#takenAt = at;
    setTimeout(this.#rearm, DELIVERY_SAMPLE_INTERVAL_MS).unref();
  }

  /** The shared frame of `publication` was built: it carries the arrival time when the publication was taken. */
  framed(publication: object, frame: SharedFrame): void {
    if (publication !== this.#taken) return;
    this.#taken = undefined;
    frame.sampledAt = this.#takenAt;
  }
}
