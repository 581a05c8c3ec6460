import { describe, expect, it } from 'vitest';
import { cell, safeJson, table, terminalSafe } from './text-format.js';

describe('text-format', () => {
  it('escapes control characters (C0, C1, line separators), keeps newlines and tabs', () => {
    expect(terminalSafe('a\u001b[31mb\u009bc\u2028d\ne\tf')).toBe('a\\u001b[31mb\\u009bc\\u2028d\ne\tf');
    expect(JSON.parse(safeJson({ t: 'x\u009by' }))).toEqual({ t: 'x\u009by' });
  });

  it('cuts cells to one line and a maximum length', () => {
    expect(cell('a\nb')).toBe('a b');
    expect(cell('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(cell({ a: 1 })).toBe('{"a":1}');
  });

  it('lays out columns', () => {
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1');
  });
});
