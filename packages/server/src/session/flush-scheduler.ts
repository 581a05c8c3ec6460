import type { Session } from './session.js';

/** A fan-out slice (session flushes, the channel hub's deliveries) yields to the event loop after running this long. */
export const FANOUT_SLICE_BUDGET_MS = 4;

/**
 * Flushes every session touched in a tick together, in slices of at most
 * `FANOUT_SLICE_BUDGET_MS`: the writes of a large fan-out never block the
 * event loop for long (sessions not reached keep their frames queued, in
 * order, and go first in the next slice).
 */
export class FlushScheduler {
  #dirty: Session[] = [];
  #scheduled = false;
  readonly #flushAll = (): void => {
    this.#scheduled = false;
    const list = this.#dirty;
    this.#dirty = [];
    const deadline = performance.now() + FANOUT_SLICE_BUDGET_MS;
    for (let i = 0; i < list.length; i++) {
      (list[i] as Session).flush();
      if ((i & 63) === 63 && i + 1 < list.length && performance.now() >= deadline) {
        this.#dirty = this.#dirty.length === 0 ? list.slice(i + 1) : list.slice(i + 1).concat(this.#dirty);
        this.#arm();
        return;
      }
    }
  };

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
}
