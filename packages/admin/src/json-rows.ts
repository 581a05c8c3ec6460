/** Children shown at once under one object or array (more on request). */
export const JSON_CHILD_PAGE = 100;
/** States whose JSON is at most this many characters open three levels deep; larger ones show the top level only. */
export const JSON_OPEN_SMALL_CHARS = 20_000;
/** Levels open by default in a small state. */
const OPEN_DEPTH = 3;

/** One visible row of a JSON tree. */
export type JsonRow =
  | {
      readonly kind: 'value';
      /** JSON pointer of the value ('' for the root). */
      readonly path: string;
      readonly label: string | undefined;
      readonly value: unknown;
      readonly depth: number;
      /** Children count of an object or array (undefined: a primitive). */
      readonly size: number | undefined;
      readonly expanded: boolean;
      /** Path of the parent row (undefined for the root). */
      readonly parent: string | undefined;
    }
  | { readonly kind: 'more'; readonly path: string; readonly hidden: number; readonly depth: number };

function childrenOf(value: unknown): [string, unknown][] | undefined {
  if (Array.isArray(value)) return value.map((v, i) => [String(i), v]);
  if (typeof value === 'object' && value !== null) return Object.entries(value);
  return undefined;
}

function pointer(parent: string, key: string): string {
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** The paths open by default: the root, and three levels when the JSON is small. */
export function defaultOpen(value: unknown): Set<string> {
  const open = new Set<string>(['']);
  if (JSON.stringify(value ?? null).length > JSON_OPEN_SMALL_CHARS) return open;
  const walk = (v: unknown, path: string, depth: number) => {
    if (depth >= OPEN_DEPTH) return;
    for (const [k, child] of (childrenOf(v) ?? []).slice(0, JSON_CHILD_PAGE)) {
      if (childrenOf(child) === undefined) continue;
      open.add(pointer(path, k));
      walk(child, pointer(path, k), depth + 1);
    }
  };
  walk(value, '', 1);
  return open;
}

/**
 * The rows to show: every value under open parents, each parent showing
 * its first `shown(path)` children and a "more" row for the rest, so the
 * rows stay bounded whatever the state holds.
 */
export function jsonRows(value: unknown, open: ReadonlySet<string>, shown: (path: string) => number): JsonRow[] {
  const rows: JsonRow[] = [];
  const walk = (v: unknown, path: string, label: string | undefined, depth: number, parent: string | undefined) => {
    const kids = childrenOf(v);
    const expanded = kids !== undefined && open.has(path);
    rows.push({ kind: 'value', path, label, value: v, depth, size: kids?.length, expanded, parent });
    if (!expanded || !kids) return;
    const limit = shown(path);
    for (const [k, child] of kids.slice(0, limit)) walk(child, pointer(path, k), k, depth + 1, path);
    if (kids.length > limit) rows.push({ kind: 'more', path, hidden: kids.length - limit, depth: depth + 1 });
  };
  walk(value, '', undefined, 0, undefined);
  return rows;
}

/** A primitive as JSON text (long strings cut at 500 characters). */
export function primitiveText(v: unknown): string {
  const text = JSON.stringify(v) ?? 'undefined';
  return text.length > 500 ? `${text.slice(0, 500)}…"` : text;
}
