/**
 * Wall-clock time in milliseconds with sub-millisecond resolution, comparable
 * across processes on one machine (`performance.timeOrigin + performance.now()`).
 * Publishers embed it in each payload; receivers subtract it for latency.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` (used for pacing publishers, never in tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
