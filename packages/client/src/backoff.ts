/** Reconnect delay bounds. */
export interface BackoffOptions {
  /** First delay ceiling, ms (default 500). */
  readonly minDelayMs?: number;
  /** Largest delay, ms (default 20,000). */
  readonly maxDelayMs?: number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a random time in
 * [0, min(max, min·2ⁿ)], never below a floor of 50 ms... except the first
 * attempt, which waits within [0, min].
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 20_000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
