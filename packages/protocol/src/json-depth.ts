/**
 * Deepest nesting of arrays and objects Syncline accepts in anything a client
 * sends (a command with its data, presence state, mutation args, HTTP bodies).
 * The value itself is level 1. Deeper input is the client's mistake and gets
 * `invalid_command` (HTTP: `invalid_request`) before any work is done.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests arrays and objects deeper than `maxDepth` levels.
 * Iterative (no recursion, so no stack overflow on hostile input) and it stops
 * at the first level past the limit. `sizeHint` is the length of the JSON text
 * the value came from, when known: valid JSON needs at least two characters a
 * level, so shorter text is answered without walking the value.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number = MAX_JSON_DEPTH, sizeHint?: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (sizeHint !== undefined && sizeHint < 2 * (maxDepth + 1)) return false;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) {
      if (typeof c === 'object' && c !== null) {
        stack.push(c);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
