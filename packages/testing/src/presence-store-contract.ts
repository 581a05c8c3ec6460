import type { PresenceEntry } from '@syncline/protocol';
import type { PresenceEnterLimits, PresenceOwner, PresenceStore } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type StoreFactory, storeFixture } from './store-fixture.js';
import { uniqueName } from './wait.js';

/** A PresenceStore implementation under test. */
export type PresenceStoreFactory = StoreFactory<PresenceStore>;

const T0 = 1_700_000_000_000;

function entry(user: string, clientId: string, state: unknown = null, at = T0): PresenceEntry {
  return { user, clientId, state, enteredAt: at, updatedAt: at };
}

const A: PresenceOwner = { node: 'node-a', session: 's1' };
const B: PresenceOwner = { node: 'node-b', session: 's2' };

/** What a refused `enter` rejects with. */
function refused(limit: 'presenceEntriesPerUser' | 'maxMembers', value: number): unknown {
  return expect.objectContaining({ code: 'limit_exceeded', details: { limit, value } });
}

/** The PresenceStore contract: the in-memory store and every cluster store must pass it. */
export function presenceStoreContract(factory: PresenceStoreFactory): void {
  describe(`PresenceStore contract: ${factory.name}`, () => {
    const { backend, store } = storeFixture(factory);

    it('joins, takes over with update (keeping enteredAt), updates and leaves with rising seq', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const j = await s.enter(ch, entry('alice', 'c1', { x: 1 }), A);
      expect(j).toMatchObject({ channel: ch, action: 'join', entry: entry('alice', 'c1', { x: 1 }) });
      expect(j.entry).not.toHaveProperty('owner');
      const t = await s.enter(ch, entry('alice', 'c1', { x: 2 }, T0 + 50), B);
      expect(t.action).toBe('update');
      expect(t.entry).toMatchObject({ state: { x: 2 }, enteredAt: T0 });
      expect(t.seq).toBeGreaterThan(j.seq);
      const u = await s.update(ch, 'alice', 'c1', { x: 3 }, T0 + 100);
      expect(u).toMatchObject({ action: 'update', entry: { state: { x: 3 }, updatedAt: T0 + 100, enteredAt: T0 } });
      expect(u?.seq).toBeGreaterThan(t.seq);
      const l = await s.leave(ch, 'alice', 'c1');
      expect(l).toMatchObject({ action: 'leave', entry: { user: 'alice', clientId: 'c1', state: { x: 3 } } });
      expect(l?.seq).toBeGreaterThan(u?.seq ?? 0);
      expect(await s.update(ch, 'alice', 'c1', 1, T0)).toBeUndefined();
      expect(await s.leave(ch, 'alice', 'c1')).toBeUndefined();
    });

    it('keeps one entry per connection of a user and lists the set with its seq', async () => {
      const s = await store();
      const ch = uniqueName('p');
      await s.enter(ch, entry('alice', 'c1'), A);
      await s.enter(ch, entry('alice', 'c2'), A);
      const last = await s.enter(ch, entry('bob', 'c3', { typing: true }), B);
      const snap = await s.list(ch);
      expect(snap.seq).toBeGreaterThanOrEqual(last.seq);
      const sorted = [...snap.entries].sort((x, y) => x.clientId.localeCompare(y.clientId));
      expect(sorted).toEqual([entry('alice', 'c1'), entry('alice', 'c2'), entry('bob', 'c3', { typing: true })]);
      expect((await s.channels()).get(ch)).toBe(3);
      await s.leave(ch, 'alice', 'c1');
      await s.leave(ch, 'alice', 'c2');
      await s.leave(ch, 'bob', 'c3');
      expect((await s.channels()).has(ch)).toBe(false);
      expect((await s.list(ch)).entries).toEqual([]);
    });

    it('leaves with onlyOwner only while that session still owns the entry', async () => {
      const s = await store();
      const ch = uniqueName('p');
      await s.enter(ch, entry('alice', 'c1'), A);
      await s.enter(ch, entry('alice', 'c1'), B);
      expect(await s.leave(ch, 'alice', 'c1', A)).toBeUndefined();
      expect((await s.list(ch)).entries).toHaveLength(1);
      expect(await s.leave(ch, 'alice', 'c1', B)).toMatchObject({ action: 'leave' });
    });

    it('gives concurrent changes distinct, per-channel increasing seqs', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const changes = await Promise.all(Array.from({ length: 20 }, (_, i) => s.enter(ch, entry(`u${i}`, `c${i}`), A)));
      const seqs = changes.map((c) => c.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect((await s.list(ch)).seq).toBeGreaterThanOrEqual(Math.max(...seqs));
    });

    it('refuses a new entry past the per-user and per-channel limits, never a take-over', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const limits: PresenceEnterLimits = { maxPerUser: 2, maxEntries: 3 };
      await s.enter(ch, entry('alice', 'c1'), A, limits);
      await s.enter(ch, entry('alice', 'c2'), A, limits);
      await expect(s.enter(ch, entry('alice', 'c3'), A, limits)).rejects.toEqual(refused('presenceEntriesPerUser', 2));
      // Taking an entry over (a reconnect, maybe on another node) counts once.
      expect((await s.enter(ch, entry('alice', 'c2', 'back'), B, limits)).action).toBe('update');
      await s.enter(ch, entry('bob', 'c1'), B, limits);
      await expect(s.enter(ch, entry('carol', 'c1'), B, limits)).rejects.toEqual(refused('maxMembers', 3));
      expect((await s.list(ch)).entries.map((e) => `${e.user}/${e.clientId}`).sort()).toEqual([
        'alice/c1',
        'alice/c2',
        'bob/c1',
      ]);
      // A leave frees its slot, for its user and for the channel.
      await s.leave(ch, 'alice', 'c1');
      expect((await s.enter(ch, entry('alice', 'c3'), A, limits)).action).toBe('join');
      await s.leave(ch, 'bob', 'c1');
      await expect(s.enter(ch, entry('alice', 'c4'), A, limits)).rejects.toEqual(refused('presenceEntriesPerUser', 2));
      expect((await s.enter(ch, entry('carol', 'c1'), A, limits)).action).toBe('join');
      // Without limits nothing is refused.
      expect((await s.enter(ch, entry('alice', 'c9'), A)).action).toBe('join');
    });

    it('admits exactly up to the limits under concurrent enters', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const limits: PresenceEnterLimits = { maxPerUser: 5, maxEntries: 8 };
      const mine = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => s.enter(ch, entry('alice', `c${i}`), A, limits)),
      );
      expect(mine.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      const others = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => s.enter(ch, entry(`u${i}`, 'c'), B, limits)),
      );
      expect(others.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect((await s.list(ch)).entries).toHaveLength(8);
      expect((await s.channels()).get(ch)).toBe(8);
    });

    it('frees the slots of expired entries', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const limits: PresenceEnterLimits = { maxPerUser: 1, maxEntries: 10 };
      await s.heartbeat('node-a', T0);
      await s.enter(ch, entry('alice', 'c1'), A, limits);
      await expect(s.enter(ch, entry('alice', 'c2'), B, limits)).rejects.toEqual(refused('presenceEntriesPerUser', 1));
      expect((await s.expire(T0 + 31_000, 30_000)).map((c) => c.entry.clientId)).toEqual(['c1']);
      expect((await s.enter(ch, entry('alice', 'c2'), B, limits)).action).toBe('join');
    });

    it('expires the entries of a node that stopped heartbeating, once', async () => {
      const s = await store();
      const ch = uniqueName('p');
      const other = uniqueName('p');
      await s.heartbeat('node-a', T0);
      await s.heartbeat('node-b', T0);
      await s.enter(ch, entry('alice', 'c1'), A);
      await s.enter(ch, entry('bob', 'c2'), B);
      await s.enter(other, entry('bob', 'c3'), B);
      await s.heartbeat('node-a', T0 + 20_000);
      expect(await s.expire(T0 + 20_000, 30_000)).toEqual([]);
      const leaves = await s.expire(T0 + 31_000, 30_000);
      expect(leaves.map((c) => `${c.channel}|${c.action}|${c.entry.clientId}`).sort()).toEqual(
        [`${ch}|leave|c2`, `${other}|leave|c3`].sort(),
      );
      expect(await s.expire(T0 + 32_000, 30_000)).toEqual([]);
      expect((await s.list(ch)).entries.map((e) => e.clientId)).toEqual(['c1']);
    });

    if (factory.multiNode) {
      it('shares entries, seqs and expiry between the nodes of one backend', async () => {
        const b = await backend();
        const [x, y] = [await b.open(), await b.open()];
        const ch = uniqueName('p');
        await x.heartbeat('node-a', T0);
        await y.heartbeat('node-b', T0);
        const j = await x.enter(ch, entry('alice', 'c1'), A);
        const k = await y.enter(ch, entry('bob', 'c2'), B);
        expect(k.seq).toBeGreaterThan(j.seq);
        expect((await y.list(ch)).entries).toHaveLength(2);
        expect((await x.update(ch, 'bob', 'c2', 'hi', T0 + 5))?.entry.state).toBe('hi');
        await y.heartbeat('node-b', T0 + 40_000);
        const [l1, l2] = await Promise.all([x.expire(T0 + 40_000, 30_000), y.expire(T0 + 40_000, 30_000)]);
        expect([...l1, ...l2].map((c) => c.entry.clientId)).toEqual(['c1']);
        expect((await x.list(ch)).entries.map((e) => e.user)).toEqual(['bob']);
      });

      it('counts the limits over the entries of every node', async () => {
        const b = await backend();
        const [x, y] = [await b.open(), await b.open()];
        const ch = uniqueName('p');
        const limits: PresenceEnterLimits = { maxPerUser: 2, maxEntries: 3 };
        await x.enter(ch, entry('alice', 'c1'), A, limits);
        await y.enter(ch, entry('alice', 'c2'), B, limits);
        await expect(x.enter(ch, entry('alice', 'c3'), A, limits)).rejects.toEqual(
          refused('presenceEntriesPerUser', 2),
        );
        await x.enter(ch, entry('bob', 'c1'), A, limits);
        await expect(y.enter(ch, entry('carol', 'c1'), B, limits)).rejects.toEqual(refused('maxMembers', 3));
        expect((await y.enter(ch, entry('alice', 'c1', 'moved'), B, limits)).action).toBe('update');
      });
    }
  });
}
