/** Reconnect delay bounds. */
export interface BackoffOptions {
  /** First delay ceiling, ms (default 500). */
  readonly minDelayMs?: number;
  /** Largest delay, ms (default 20,000). */
  readonly maxDelayMs?: number;
}

/** Shortest delay of every attempt after the first, ms (never above `maxDelayMs`). */
export const MIN_RETRY_DELAY_MS = 50;

/**
 * Exponential backoff with full jitter: attempt n waits a random time in
 * [0, min(max, min·2ⁿ)]. The first attempt (n = 0) may go at once; every
 * later one waits at least `MIN_RETRY_DELAY_MS` (50 ms, or `max` when that is
 * smaller), so a run of failures never retries in a tight loop.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 20_000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  const delay = Math.floor(random() * ceiling);
  return attempt === 0 ? delay : Math.max(delay, Math.min(MIN_RETRY_DELAY_MS, max));
}
