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

/**
 * The path of the first place where two JSON values differ (`$.items[2].name`),
 * or `undefined` when they are deep-equal (by {@link canonicalJson}). Used to
 * make a convergence failure readable.
 */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects =
    !bothArrays &&
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b);
  if (bothArrays) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return path;
  }
  if (bothObjects) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
    for (const k of keys) {
      const d = firstDifference(ra[k], rb[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
  }
  return path;
}
