import { SynclineError } from '@syncline/protocol';

/** A user's balance of mutator time, ms (negative: in debt). */
interface Balance {
  ms: number;
  at: number;
}

/** Balances kept before idle full ones are swept. */
const SWEEP_AFTER_USERS = 10_000;

/**
 * Server thread time that one user's mutators may use on this node: a token
 * bucket in milliseconds, refilled at `msPerSec` up to `burstMs`. A mutation
 * is let in while the user's balance is positive and charged afterwards with
 * the time its mutator really ran (a stopped one with the whole budget), so a
 * user whose mutators are slow, on purpose or not, gets `rate_limited` instead
 * of taking the node's thread from everyone else. Cheap mutators (tens of
 * microseconds) never notice it.
 */
export class MutatorTimeBudget {
  readonly #msPerSec: number;
  readonly #burstMs: number;
  readonly #balances = new Map<string, Balance>();

  constructor(msPerSec: number, burstMs: number) {
    this.#msPerSec = msPerSec;
    this.#burstMs = burstMs;
  }

  #balance(user: string, now: number): Balance | undefined {
    const b = this.#balances.get(user);
    if (!b) return undefined;
    b.ms = Math.min(this.#burstMs, b.ms + ((now - b.at) / 1000) * this.#msPerSec);
    b.at = now;
    return b;
  }

  /** Throws `rate_limited` (with `retryAfterMs`) while `user` has used up its mutator time. */
  check(user: string): void {
    if (this.#msPerSec <= 0) return;
    const b = this.#balance(user, Date.now());
    if (!b || b.ms > 0) return;
    throw new SynclineError(
      'rate_limited',
      `Mutators of this user used more than ${this.#msPerSec} ms of server time a second; retry later.`,
      { retryAfterMs: Math.ceil(((1 - b.ms) / this.#msPerSec) * 1000), details: { limit: 'mutatorMsPerSec' } },
    );
  }

  /** Charges `ms` of mutator time to `user`. */
  charge(user: string, ms: number): void {
    if (this.#msPerSec <= 0 || ms <= 0) return;
    const now = Date.now();
    let b = this.#balance(user, now);
    if (!b) {
      if (this.#balances.size >= SWEEP_AFTER_USERS) this.#sweep(now);
      b = { ms: this.#burstMs, at: now };
      this.#balances.set(user, b);
    }
    b.ms -= ms;
  }

  /** Forgets users whose balance is full again (they are as if new). */
  #sweep(now: number): void {
    for (const [user, b] of this.#balances) {
      if (b.ms + ((now - b.at) / 1000) * this.#msPerSec >= this.#burstMs) this.#balances.delete(user);
    }
  }
}
