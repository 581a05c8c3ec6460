import { describe, expect, it } from 'vitest';
import type { Session } from './session.js';
import { SessionRegistry } from './session-registry.js';

/** A connected session of `user`, as far as the registry looks at one. */
function sessionOf(user: string, n: number): Session {
  return { id: `${user}#${n}`, user, principal: { user } } as unknown as Session;
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('SessionRegistry.usersAfter', () => {
  it('returns the same page as sorting every user, whatever the order users connected in', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    const next = random(seed);
    for (let round = 0; round < 30; round++) {
      const registry = new SessionRegistry();
      const ids = Array.from({ length: 1 + Math.floor(next() * 400) }, () =>
        ['a', 'ab', 'b', 'ba', 'c'][Math.floor(next() * 5)]?.concat(Math.floor(next() * 1_000).toString(36)),
      ) as string[];
      // Ascending, descending or shuffled connect order.
      const order = round % 3 === 0 ? [...ids].sort() : round % 3 === 1 ? [...ids].sort().reverse() : ids;
      for (const [i, user] of order.entries()) registry.connected(sessionOf(user, i));
      const users = [...new Set(ids)].sort();
      const prefix = ['', 'a', 'b', 'ab', 'zz'][round % 5] as string;
      const after = next() < 0.5 ? '' : (users[Math.floor(next() * users.length)] as string);
      const limit = 1 + Math.floor(next() * 40);
      const want = users.filter((u) => u > after && u.startsWith(prefix)).slice(0, limit);
      const got = registry.usersAfter(prefix, after, limit);
      expect(
        got.map((u) => u.user),
        `seed ${seed}, round ${round}`,
      ).toEqual(want);
      for (const u of got) expect(u.connections).toBe(ids.filter((id) => id === u.user).length);
    }
  });

  it('finds an open session by id, and counts users', () => {
    const registry = new SessionRegistry();
    const s = sessionOf('ann', 1);
    registry.add(s);
    registry.connected(s);
    registry.connected(sessionOf('ann', 2));
    expect(registry.find('ann#1')).toBe(s);
    expect(registry.find('nobody')).toBeUndefined();
    expect(registry.userCount).toBe(1);
    expect(registry.usersAfter('', '', 0)).toEqual([]);
  });
});
