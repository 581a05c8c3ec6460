import { describe, expect, it } from 'vitest';
import { validateWith } from './standard-schema.js';
import { applyUndoStep, jsonEqual, UNDO_MAX_STEPS, UndoArgsSchema } from './undo.js';

function valid(args: unknown): boolean {
  const r = validateWith(UndoArgsSchema, args);
  if (r instanceof Promise) throw new Error('the undo schema is synchronous');
  return r.ok;
}

describe('$undo args', () => {
  it('accepts the three checked steps', () => {
    expect(
      valid({
        steps: [
          { op: 'replace', path: ['a', 0], expect: 1, value: { b: [null, true, 'x'] } },
          { op: 'remove', path: ['a'], expect: [] },
          { op: 'add', path: ['k'], value: 2 },
        ],
      }),
    ).toBe(true);
  });

  it.each([
    ['a prototype key in a path', { steps: [{ op: 'add', path: ['__proto__'], value: 1 }] }],
    ['a prototype key in a value', { steps: [{ op: 'add', path: ['k'], value: JSON.parse('{"__proto__":{"x":1}}') }] }],
    ['a class instance', { steps: [{ op: 'add', path: ['k'], value: new Date(0) }] }],
    ['a non-finite number', { steps: [{ op: 'add', path: ['k'], value: Number.NaN }] }],
    ['undefined', { steps: [{ op: 'add', path: ['k'], value: undefined }] }],
    ['an empty path', { steps: [{ op: 'remove', path: [], expect: 1 }] }],
    ['a fractional index', { steps: [{ op: 'remove', path: ['a', 1.5], expect: 1 }] }],
    ['a missing expect', { steps: [{ op: 'replace', path: ['a'], value: 1 }] }],
    ['an unknown op', { steps: [{ op: 'move', path: ['a'], value: 1 }] }],
    ['an extra field', { steps: [{ op: 'add', path: ['a'], value: 1, from: ['b'] }] }],
    [
      'too many steps',
      { steps: Array.from({ length: UNDO_MAX_STEPS + 1 }, () => ({ op: 'add', path: ['a'], value: 1 })) },
    ],
    [
      'nesting past 64',
      { steps: [{ op: 'add', path: ['a'], value: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) }] },
    ],
  ])('refuses %s', (_what, args) => {
    expect(valid(args)).toBe(false);
  });
});

describe('applyUndoStep', () => {
  it('checks before it writes and never writes through a prototype', () => {
    const state: Record<string, unknown> = { a: [1, 2], o: { x: 1 } };
    expect(applyUndoStep(state, { op: 'replace', path: ['o', 'x'], expect: 2, value: 3 })).toBe(false);
    expect(applyUndoStep(state, { op: 'replace', path: ['o', 'x'], expect: 1, value: 3 })).toBe(true);
    expect(applyUndoStep(state, { op: 'add', path: ['a', 9], value: 3 })).toBe(true);
    expect(applyUndoStep(state, { op: 'remove', path: ['a', 0], expect: 1 })).toBe(true);
    expect(applyUndoStep(state, { op: 'add', path: ['toString', 'x'], value: 1 })).toBe(false);
    expect(state).toEqual({ a: [2, 3], o: { x: 3 } });
  });

  it('compares JSON values deeply', () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
});
