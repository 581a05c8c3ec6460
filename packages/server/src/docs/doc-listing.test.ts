import { describe, expect, it } from 'vitest';
import { compareCodePoints, nameRange, nameRangeSql, prefixEnd } from './doc-listing.js';

describe('document listing ranges', () => {
  it('ends a prefix range just above every name starting with it', () => {
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('room:')).toBe('room;');
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('\u{10FFFF}\u{10FFFF}')).toBeUndefined();
    // The code point after U+D7FF is U+E000 (surrogates are not characters).
    expect(prefixEnd('x\uD7FF')).toBe('x\uE000');
    expect(prefixEnd('x😀')).toBe('x😁');
    for (const name of ['room:', 'room:a', 'room:\u{10FFFF}', 'room:😀']) {
      expect(compareCodePoints(name, prefixEnd('room:') as string)).toBeLessThan(0);
    }
  });

  it('compares in code point order, not UTF-16 units', () => {
    expect(compareCodePoints('\uFFFF', '😀')).toBeLessThan(0);
    expect('\uFFFF' < '😀').toBe(false);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('starts after the cursor when it is within or past the prefix, else at the prefix', () => {
    expect(nameRange({ prefix: 'room:', limit: 10 })).toEqual({ from: 'room:', strict: false, to: 'room;' });
    expect(nameRange({ prefix: 'room:', after: 'room:b', limit: 10 })).toEqual({
      from: 'room:b',
      strict: true,
      to: 'room;',
    });
    expect(nameRange({ prefix: 'room:', after: 'lobby:x', limit: 10 })).toEqual({
      from: 'room:',
      strict: false,
      to: 'room;',
    });
    expect(nameRange({ prefix: '', after: 'x', limit: 10 })).toEqual({ from: 'x', strict: true, to: undefined });
  });

  it('writes the range as SQL with the store’s placeholders', () => {
    expect(nameRangeSql({ from: 'a', strict: true, to: 'b' }, 'doc', (i) => `$${i + 1}`)).toEqual({
      sql: 'doc > $1 AND doc < $2',
      values: ['a', 'b'],
    });
    expect(nameRangeSql({ from: '', strict: false, to: undefined }, 'doc', () => '?')).toEqual({
      sql: 'doc >= ?',
      values: [''],
    });
  });
});
