import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { k: v };
  return v;
}

describe('jsonDepthExceeds', () => {
  it('counts the value itself as level 1 and accepts exactly the limit', () => {
    for (const kind of ['array', 'object'] as const) {
      expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH, kind))).toBe(false);
      expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1, kind))).toBe(true);
    }
    expect(jsonDepthExceeds(1)).toBe(false);
    expect(jsonDepthExceeds(null)).toBe(false);
    expect(jsonDepthExceeds({})).toBe(false);
  });

  it('finds a deep branch beside shallow ones and survives hostile depth without recursion', () => {
    expect(jsonDepthExceeds({ a: 1, b: [2, 3], c: { d: nested(70, 'array') } })).toBe(true);
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(jsonDepthExceeds(deep)).toBe(true);
  });

  it('skips the walk when the text is too short to nest past the limit', () => {
    const v = nested(10, 'array');
    expect(jsonDepthExceeds(v, 3, 7)).toBe(false);
    expect(jsonDepthExceeds(v, 3, JSON.stringify(v).length)).toBe(true);
  });
});
