/**
 * A canonical JSON text of `value`: object keys sorted, no whitespace, so two
 * deep-equal JSON values give the same string whatever their key order.
 * History checkers compare payloads and document states with it.
 *
 * `undefined` (at the top level or as an array item) gives `null`, and object
 * members whose value is `undefined` are left out, as `JSON.stringify` does.
 * Non-finite numbers give `null`. Cycles are not supported (a recorded history
 * holds JSON values only).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (!isSorted(keys)) keys.sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${quoted(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] ?? '') > (keys[i] ?? '')) return false;
  return true;
}

/** Quoted object keys: payloads of one history share a few key names. */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 10_000;

function quoted(key: string): string {
  let q = QUOTED.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (QUOTED.size < QUOTED_MAX) QUOTED.set(key, q);
  }
  return q;
}

/** Where two JSON values first differ, and the two values found there. */
export interface JsonDifference {
  /** `$`, `$.items[2].name` … */
  readonly path: string;
  readonly left: unknown;
  readonly right: unknown;
}

/**
 * The first place where two JSON values differ (keys in sorted order, then
 * array items in order), or `undefined` when they are deep-equal (by
 * {@link canonicalJson}). Used to make a convergence failure readable.
 */
export function firstDifference(left: unknown, right: unknown, path = '$'): JsonDifference | undefined {
  if (canonicalJson(left) === canonicalJson(right)) return undefined;
  if (Array.isArray(left) && Array.isArray(right)) {
    const n = Math.max(left.length, right.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(left[i], right[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
  } else if (isObject(left) && isObject(right)) {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    for (const k of keys) {
      const d = firstDifference(left[k], right[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
  }
  return { path, left, right };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
