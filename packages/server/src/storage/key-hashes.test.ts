import { describe, expect, it } from 'vitest';
import { type KeyedChannel, KeyHashes } from './key-hashes.js';

/** A channel with `n` keyed publications, offsets 1 to n. */
function channel(name: string, n: number): { ch: KeyedChannel; rows: { key: string; offset: number }[] } {
  const rows = Array.from({ length: n }, (_, i) => ({ key: `${name}-${i + 1}`, offset: i + 1 }));
  return { ch: { offset: n, keys: undefined }, rows };
}

describe('KeyHashes', () => {
  it('lets the least recently used channels go past the cap, never the one in use', () => {
    const hashes = new KeyHashes(10, 7);
    const a = channel('a', 4);
    const b = channel('b', 4);
    hashes.load(a.ch, a.rows);
    hashes.load(b.ch, b.rows);
    expect(hashes.size).toBe(8);
    // `a` is used again, so `b` is now the least recently used.
    (a.ch as { offset: number }).offset = 5;
    hashes.remember(a.ch, hashes.hash('a-5'), 100);
    const c = channel('c', 4);
    hashes.load(c.ch, c.rows);
    expect(b.ch.keys).toBeUndefined();
    expect(a.ch.keys?.size).toBe(5);
    expect(c.ch.keys?.size).toBe(4);
    expect(hashes.size).toBe(9);
    // A channel alone past the cap keeps its hashes while in use.
    const big = channel('big', 30);
    hashes.load(big.ch, big.rows);
    expect(big.ch.keys?.size).toBe(30);
    expect(a.ch.keys).toBeUndefined();
    expect(c.ch.keys).toBeUndefined();
    expect(hashes.size).toBe(30);
  });

  it('keeps the hashes of the last `size` offsets of a channel, with room for twice that', () => {
    const hashes = new KeyHashes(1_000, 7);
    const { ch } = channel('s', 0);
    hashes.load(ch, []);
    const mutable = ch as { offset: number };
    for (let i = 1; i <= 200; i++) {
      mutable.offset = i;
      hashes.remember(ch, hashes.hash(`s-${i}`), 10);
    }
    expect(hashes.size).toBeLessThanOrEqual(2 * 10 + 16);
    expect(ch.keys?.get(hashes.hash('s-200'))).toBe(200);
    expect(ch.keys?.get(hashes.hash('s-191'))).toBe(191);
    expect(ch.keys?.has(hashes.hash('s-150'))).toBe(false);
  });
});
