import { createHash } from 'node:crypto';
import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import { MemoryWindowCounters, type WindowCount, type WindowCounters } from '../cluster/window-counters.js';
import { withDeadline } from '../health/backend-health.js';
import { ADMIN_LOGIN_FAILURES_GLOBAL, ADMIN_LOGIN_FAILURES_PER_IP, ADMIN_LOGIN_WINDOW_MS } from './admin-options.js';

/** Client addresses a node tracks at once; past it the oldest go (the global limit still holds). */
const MAX_TRACKED_ADDRESSES = 10_000;
/** Longest wait for the cluster's counts before a sign-in goes on with the node's own, ms. */
export const ADMIN_LOGIN_SHARED_WAIT_MS = 1_000;
/** At most one warning this often while the cluster's counts cannot be reached, ms. */
const WARN_EVERY_MS = 10_000;

/** Counter key of all failures together. */
const GLOBAL_KEY = 'admin-login:all';

/** Counter key of one address (a long one, which only a forged forwarding header can give, is hashed). */
function addressKey(ip: string): string {
  const id = ip.length <= 64 ? ip : `sha256:${createHash('sha256').update(ip).digest('hex')}`;
  return `admin-login:ip:${id}`;
}

/** Options of a {@link LoginLimiter}. */
export interface LoginLimiterOptions {
  /**
   * Counters shared by the cluster (Redis): with them the limits count the
   * failures of every node. Without them (a node alone), the node's own.
   */
  readonly shared?: WindowCounters | undefined;
  /** Warned when the shared counters cannot be reached. */
  readonly logger?: Logger | undefined;
  /** Clock of the node's own counts (tests). */
  readonly now?: () => number;
  /** Longest wait for the shared counters, ms (default {@link ADMIN_LOGIN_SHARED_WAIT_MS}). */
  readonly sharedWaitMs?: number | undefined;
}

/**
 * Counts failed console sign-ins per client address and over all of them,
 * in fixed windows of {@link ADMIN_LOGIN_WINDOW_MS}. Past either limit every
 * sign-in from there (even with the right key) is refused until the window
 * ends.
 *
 * In a cluster the counts are the cluster's (`shared`), so spreading
 * failures over nodes does not multiply the limits. The node also counts its
 * own failures, and the stricter of the two decides. When the shared counts
 * cannot be read or written within {@link ADMIN_LOGIN_SHARED_WAIT_MS} (Redis
 * down), the node's own count decides alone: refusing every sign-in then
 * would lock the operators out of the console during the very outage they
 * need it for, while the node's own limits still bound guessing (to N nodes
 * × 50 failures a minute, as without a cluster).
 */
export class LoginLimiter {
  /** The node's own counts: addresses (bounded, the oldest go first) and all of them (never pushed out). */
  readonly #own: MemoryWindowCounters;
  readonly #ownAll: MemoryWindowCounters;
  readonly #shared: WindowCounters | undefined;
  readonly #logger: Logger | undefined;
  readonly #waitMs: number;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LoginLimiterOptions = {}) {
    const clock = options.now ? { now: options.now } : {};
    this.#own = new MemoryWindowCounters({ maxKeys: MAX_TRACKED_ADDRESSES, ...clock });
    this.#ownAll = new MemoryWindowCounters({ maxKeys: 1, ...clock });
    this.#shared = options.shared;
    this.#logger = options.logger;
    this.#waitMs = options.sharedWaitMs ?? ADMIN_LOGIN_SHARED_WAIT_MS;
  }

  /** Milliseconds until this address may try again, or 0 when it may now. */
  async retryAfterMs(ip: string): Promise<number> {
    const key = addressKey(ip);
    let wait = limitWait(this.#own.peekNow(key), this.#ownAll.peekNow(GLOBAL_KEY));
    const shared = this.#shared;
    // Refused by the node's own count already: a flood of refused sign-ins costs Redis nothing.
    if (shared && wait === 0) {
      const counts = await this.#reach('read', () => Promise.all([shared.peek(key), shared.peek(GLOBAL_KEY)]));
      if (counts) wait = Math.max(wait, limitWait(...counts));
    }
    return wait;
  }

  /** Records a failed sign-in from an address (on the node, and in the cluster's counts when it has them). */
  async failed(ip: string): Promise<void> {
    const key = addressKey(ip);
    this.#own.hitNow(key, ADMIN_LOGIN_WINDOW_MS);
    this.#ownAll.hitNow(GLOBAL_KEY, ADMIN_LOGIN_WINDOW_MS);
    const shared = this.#shared;
    if (shared) {
      await this.#reach('count', () =>
        Promise.all([shared.hit(key, ADMIN_LOGIN_WINDOW_MS), shared.hit(GLOBAL_KEY, ADMIN_LOGIN_WINDOW_MS)]),
      );
    }
  }

  /** Runs a call on the shared counters within the wait; undefined (and a warning now and then) when it fails. */
  async #reach<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await withDeadline(
        call(),
        this.#waitMs,
        () => new SynclineError('timeout', `The cluster's sign-in counts did not answer within ${this.#waitMs} ms.`),
      );
    } catch (err) {
      const now = Date.now();
      if (now - this.#warnedAt >= WARN_EVERY_MS) {
        this.#warnedAt = now;
        this.#logger?.warn(
          { err, what },
          "admin: the cluster's sign-in failure counts are unreachable; this node's own count applies",
        );
      }
      return undefined;
    }
  }
}

/** The wait the counts of an address and of everyone impose, or 0. */
function limitWait(address: WindowCount | undefined, all: WindowCount | undefined): number {
  let wait = 0;
  if (address && address.count >= ADMIN_LOGIN_FAILURES_PER_IP) wait = address.remainingMs;
  if (all && all.count >= ADMIN_LOGIN_FAILURES_GLOBAL) wait = Math.max(wait, all.remainingMs);
  return wait;
}
