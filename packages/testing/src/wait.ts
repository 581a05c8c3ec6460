import { randomBytes } from 'node:crypto';

/** A channel name in namespace `ns` that no other test or run uses. */
export function uniqueName(ns: string): string {
  return `${ns}:${randomBytes(6).toString('hex')}`;
}

/**
 * Polls `cond` until it holds; throws after `timeoutMs`. Contract suites wait
 * for conditions, never for fixed delays.
 */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  what = 'condition',
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
