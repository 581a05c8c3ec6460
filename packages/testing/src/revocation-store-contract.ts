import type { ChannelCountsStore, RevocationStore } from '@syncline/server';
import { afterEach, describe, expect, it } from 'vitest';
import { type StoreFactory, storeFixture } from './store-fixture.js';
import { eventually, uniqueName } from './wait.js';

/** A RevocationStore implementation under test. */
export type RevocationStoreFactory = StoreFactory<RevocationStore>;

const NONE: ReadonlyMap<string, number> = new Map();
const T0 = 1_700_000_000_000;

function sorted(m: ReadonlyMap<string, number>): Array<[string, number]> {
  return [...m].sort(([a], [b]) => a.localeCompare(b));
}

/** The RevocationStore contract: the SQLite store and every cluster store must pass it. */
export function revocationStoreContract(factory: RevocationStoreFactory): void {
  describe(`RevocationStore contract: ${factory.name}`, () => {
    const { backend } = storeFixture(factory);

    it('stores revocations, never moves one back, and lifts them', async () => {
      const store = await (await backend()).open();
      const user = uniqueName('u');
      expect(await store.revoke(user, T0 + 2_000)).toBe(T0 + 2_000);
      expect(await store.revoke(user, T0 + 1_000)).toBe(T0 + 2_000);
      expect(await store.revoke(user, T0 + 3_000)).toBe(T0 + 3_000);
      expect(sorted(await store.all(NONE))).toEqual([[user, T0 + 3_000]]);
      expect(await store.lift(user)).toBe(true);
      expect(await store.lift(user)).toBe(false);
      expect(sorted(await store.all(NONE))).toEqual([]);
    });

    it('keeps several users apart', async () => {
      const store = await (await backend()).open();
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      await store.revoke(a, T0 + 1);
      await store.revoke(b, T0 + 2);
      await store.lift(a);
      expect(sorted(await store.all(NONE))).toEqual([[b, T0 + 2]]);
    });

    if (factory.multiNode) {
      it('shares revocations between nodes, including nodes opened later', async () => {
        const be = await backend();
        const [n1, n2] = [await be.open(), await be.open()];
        const user = uniqueName('u');
        await n1.revoke(user, T0 + 5);
        expect(await n2.revoke(user, T0 + 1)).toBe(T0 + 5);
        const late = await be.open();
        expect(sorted(await late.all(NONE))).toEqual([[user, T0 + 5]]);
        expect(await n2.lift(user)).toBe(true);
        expect(sorted(await n1.all(NONE))).toEqual([]);
        // Concurrent revocations of one user from several nodes keep the latest time.
        await Promise.all([n1, n2, late].flatMap((s, i) => [s.revoke(user, T0 + 10 + i), s.revoke(user, T0 + i)]));
        expect(sorted(await n1.all(NONE))).toEqual([[user, T0 + 12]]);
      });
    }
  });
}

/** A ChannelCountsStore implementation under test. */
export interface ChannelCountsStoreFactory {
  readonly name: string;
  /** A fresh backend; `open()` gives a store on it. */
  create(): Promise<{ open(): Promise<ChannelCountsStore>; close(): Promise<void> }>;
}

/** The ChannelCountsStore contract. */
export function channelCountsStoreContract(factory: ChannelCountsStoreFactory): void {
  describe(`ChannelCountsStore contract: ${factory.name}`, () => {
    let closers: Array<() => Promise<void>> = [];

    afterEach(async () => {
      const list = closers;
      closers = [];
      for (const c of list.reverse()) await c();
    });

    it('sums the latest report of every node, drops removed and expired ones', async () => {
      const b = await factory.create();
      closers.push(() => b.close());
      const store = await b.open();
      const [x, y] = [uniqueName('chat'), uniqueName('chat')];
      await store.report('n1', new Map([[x, 2]]), 60_000);
      await store.report(
        'n2',
        new Map([
          [x, 3],
          [y, 1],
        ]),
        60_000,
      );
      expect(sorted(await store.totals())).toEqual(
        sorted(
          new Map([
            [x, 5],
            [y, 1],
          ]),
        ),
      );
      // A new report replaces the node's previous one.
      await store.report('n1', new Map([[y, 4]]), 60_000);
      expect(sorted(await store.totals())).toEqual(
        sorted(
          new Map([
            [x, 3],
            [y, 5],
          ]),
        ),
      );
      await store.remove('n2');
      expect(sorted(await store.totals())).toEqual([[y, 4]]);
      // A node that stops reporting drops out after its TTL.
      await store.report('n3', new Map([[x, 7]]), 200);
      expect((await store.totals()).get(x)).toBe(7);
      await eventually(async () => !(await store.totals()).has(x), 'the expired report dropped out');
    });
  });
}
