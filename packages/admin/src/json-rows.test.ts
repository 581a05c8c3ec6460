import { describe, expect, it } from 'vitest';
import { defaultOpen, JSON_CHILD_PAGE, JSON_OPEN_SMALL_CHARS, jsonRows, primitiveText } from './json-rows.js';

describe('JSON tree rows', () => {
  it('opens a small state three levels deep and a large one at the top only', () => {
    const small = { a: { b: { c: { d: 1 } } }, list: [1, 2] };
    expect([...defaultOpen(small)].sort()).toEqual(['', '/a', '/a/b', '/list']);
    const large = { big: 'x'.repeat(JSON_OPEN_SMALL_CHARS), more: { a: 1 } };
    expect([...defaultOpen(large)]).toEqual(['']);
  });

  it('shows children a page at a time, with a row for the rest', () => {
    const list = Array.from({ length: 250 }, (_, i) => i);
    const rows = jsonRows({ list }, new Set(['', '/list']), () => JSON_CHILD_PAGE);
    expect(rows).toHaveLength(1 + 1 + JSON_CHILD_PAGE + 1);
    expect(rows[rows.length - 1]).toEqual({ kind: 'more', path: '/list', hidden: 150, depth: 2 });
    const all = jsonRows({ list }, new Set(['', '/list']), () => 300);
    expect(all.filter((r) => r.kind === 'more')).toEqual([]);
  });

  it('escapes keys in paths and names each row by its parent', () => {
    const rows = jsonRows({ 'a/b': { '~': true } }, new Set(['', '/a~1b']), () => JSON_CHILD_PAGE);
    expect(rows.map((r) => r.path)).toEqual(['', '/a~1b', '/a~1b/~0']);
    expect(rows[2]).toMatchObject({ kind: 'value', parent: '/a~1b', label: '~', value: true, size: undefined });
    expect(primitiveText('y'.repeat(600))).toHaveLength(502);
  });
});
