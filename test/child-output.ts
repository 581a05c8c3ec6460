import type { ChildProcess } from 'node:child_process';
import { waitFor } from './helpers.js';

/** A child's output so far (stdout and stderr interleaved) and the match of what it printed when ready. */
export interface ChildReady {
  readonly match: RegExpExecArray;
  readonly output: () => string;
}

/**
 * Collects a child's stdout and stderr and waits until they match `ready`;
 * throws with the output when the child exits first or `timeoutMs` passes.
 */
export async function awaitReady(
  proc: ChildProcess,
  ready: RegExp,
  timeoutMs: number,
  what: string,
): Promise<ChildReady> {
  let out = '';
  const collect = (d: Buffer): void => {
    out += d.toString();
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  await waitFor(
    () => ready.test(out) || proc.exitCode !== null,
    timeoutMs,
    () => `wanted ${what} to print ${ready}, saw:\n${out.slice(-2_000)}`,
  );
  const match = ready.exec(out);
  if (!match) throw new Error(`${what} exited (${proc.exitCode}) before it was ready:\n${out}`);
  return { match, output: () => out };
}
