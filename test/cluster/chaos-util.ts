import { prng } from '@syncline/testing';

/** A seeded random source: floats in [0, 1). */
export type Rng = () => number;

/** Seed of a chaos run: `SYNCLINE_CHAOS_SEED` when set (to replay a run), a fresh one otherwise. */
export function chaosSeed(): number {
  const fromEnv = process.env.SYNCLINE_CHAOS_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`SYNCLINE_CHAOS_SEED must be a non-negative integer, got "${fromEnv}"`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** A seeded PRNG (same seed, same sequence): the project's one, from `@syncline/testing`. */
export function seededRng(seed: number): Rng {
  return prng(seed);
}

/** An integer in [min, max]. */
export function between(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** Resolves after `ms` (pacing traffic, never as an assertion). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `cond()` holds, polling every 20 ms; after `timeoutMs` throws
 * an error that names what it waited for and what it saw (`saw()`).
 */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  saw: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; saw: ${await saw()}`);
    await delay(20);
  }
}

/** The `code` of a thrown SynclineError-like value ('' when it has none). */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}
