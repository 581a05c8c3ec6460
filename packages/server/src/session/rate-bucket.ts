import { SynclineError } from '@syncline/protocol';
import type { Session } from './session.js';

/** One token bucket, kept on the session under its key. */
interface Bucket {
  tokens: number;
  at: number;
}

/** A per-connection rate limit: `ratePerSec` sustained, `burst` at once. */
export interface RateLimit {
  /** Key of the bucket on the session (one bucket per limited command family). */
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
  let b = session.ext.get(key) as Bucket | undefined;
  if (!b) {
    b = { tokens: burst, at: now };
    session.ext.set(key, b);
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
