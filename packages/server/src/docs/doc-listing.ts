/** A document that exists in a store, as `DocStore.listDocs` lists it. */
export interface StoredDocInfo {
  readonly doc: string;
  /** Current version (at least 1: the document was written). */
  readonly version: number;
  /** Time of the latest commit, ms since the epoch. */
  readonly updatedAt: number;
}

/** Which documents `DocStore.listDocs` returns. */
export interface DocListQuery {
  /** Only names starting with it ('' for all). */
  readonly prefix: string;
  /** Only names sorted after it (exclusive): the last name of the previous page. */
  readonly after?: string | undefined;
  /** Most documents returned. */
  readonly limit: number;
}

/**
 * The name range of a listing as SQL bounds in code point order: names
 * `> from` (or `>= from` when not `strict`) and, when `to` is set, `< to`.
 * Every name starting with the prefix is in `[prefix, to)`, and no other.
 */
export interface NameRange {
  readonly from: string;
  readonly strict: boolean;
  readonly to: string | undefined;
}

/** The smallest string above every string starting with `prefix` (code point order); none for '' or all U+10FFFF. */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const cp = (points.pop() as string).codePointAt(0) as number;
    if (cp < 0x10ffff) {
      // Skip the surrogate range: those are not characters of a valid string.
      const next = cp === 0xd7ff ? 0xe000 : cp + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Compares strings in code point order (as SQLite and PostgreSQL's "C" collation order UTF-8 text). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = ((x[i] as string).codePointAt(0) as number) - ((y[i] as string).codePointAt(0) as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The SQL bounds of a listing's prefix and cursor. */
export function nameRange(query: DocListQuery): NameRange {
  const to = prefixEnd(query.prefix);
  const after = query.after;
  if (after !== undefined && compareCodePoints(after, query.prefix) >= 0) return { from: after, strict: true, to };
  return { from: query.prefix, strict: false, to };
}

/**
 * The WHERE condition of a listing on `column`, its parameters written by
 * `param(i)` (i from 0: `?` for SQLite, `$n` for PostgreSQL), and their values.
 */
export function nameRangeSql(
  range: NameRange,
  column: string,
  param: (i: number) => string,
): { sql: string; values: string[] } {
  const lower = `${column} ${range.strict ? '>' : '>='} ${param(0)}`;
  return range.to === undefined
    ? { sql: lower, values: [range.from] }
    : { sql: `${lower} AND ${column} < ${param(1)}`, values: [range.from, range.to] };
}
