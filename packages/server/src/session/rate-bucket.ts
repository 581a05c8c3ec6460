import { SynclineError } from '@syncline/protocol';
import type { Session } from './session.js';
import { defineSlot } from './session-slot.js';

/** One token bucket. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A session's token buckets, by the `key` of their limit (one per limited
 * command family; most sessions have none, a publisher one or two).
 */
const RATE_BUCKETS_SLOT = defineSlot<Map<string, Bucket>>('rateBuckets', () => new Map());

/** A per-connection rate limit: `ratePerSec` sustained, `burst` at once. */
export interface RateLimit {
  /** Name of the limited command family; limits with the same key share the session's bucket. */
  readonly key: string;
  readonly ratePerSec: number;
  readonly burst: number;
  /** What is limited, for the error message (`Publish`, `Mutation` …). */
  readonly what: string;
}

/**
 * Takes one token from the session's bucket for `limit`, or throws
 * `rate_limited` with `retryAfterMs` (the time until a token is back) and
 * takes nothing. The bucket starts full and refills continuously.
 */
export function takeToken(session: Session, limit: RateLimit): void {
  const { key, ratePerSec: rate, burst } = limit;
  const now = Date.now();
  const buckets = session.slot(RATE_BUCKETS_SLOT);
  let b = buckets.get(key);
  if (!b) {
    b = { tokens: burst, at: now };
    buckets.set(key, b);
  }
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  if (b.tokens < 1) {
    throw new SynclineError('rate_limited', `${limit.what} rate above ${rate}/s.`, {
      retryAfterMs: Math.ceil(((1 - b.tokens) / rate) * 1000),
    });
  }
  b.tokens -= 1;
}
