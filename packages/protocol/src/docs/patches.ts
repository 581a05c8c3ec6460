import { apply } from 'mutative';

/** One segment of a path into a JSON document: an object key or an array index. */
export type PathSegment = string | number;

/**
 * A change to a JSON document, in the shape of RFC 6902 JSON Patch with the
 * path as an array of segments. `add` on an array index inserts, `remove`
 * on an array index removes (later items shift), `replace` sets.
 */
export interface DocPatch {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path: readonly PathSegment[];
  readonly value?: unknown;
}

/**
 * Applies patches to a JSON state without modifying it; returns the new
 * state (unchanged parts are shared). Throws when a patch does not fit.
 */
export function applyPatches<S>(state: S, patches: readonly DocPatch[]): S {
  if (patches.length === 0) return state;
  return apply(state as object, patches as Parameters<typeof apply>[1]) as S;
}
