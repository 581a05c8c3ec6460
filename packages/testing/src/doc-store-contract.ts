import type { DocPatch } from '@syncline/protocol';
import { type CommitInput, type DocStore, DocVersionConflict } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type StoreFactory, storeFixture } from './store-fixture.js';
import { uniqueName } from './wait.js';

/** A DocStore implementation under test. */
export type DocStoreFactory = StoreFactory<DocStore>;

function set(path: string, value: unknown): DocPatch {
  return { op: 'add', path: path.split('/').filter(Boolean), value };
}

function commitOf(doc: string, version: number, extra: Partial<CommitInput> = {}): CommitInput {
  return { doc, version, patches: [set(`/v${version}`, version)], ts: 1_700_000_000_000 + version, ...extra };
}

/** The DocStore contract: the embedded SQLite store and every cluster store must pass it. */
export function docStoreContract(factory: DocStoreFactory): void {
  describe(`DocStore contract: ${factory.name}`, () => {
    const { backend, store } = storeFixture(factory);

    it('loads a document never written at version 0', async () => {
      const s = await store();
      const doc = uniqueName('d');
      expect(await s.load(doc)).toEqual({ version: 0, snapshot: undefined, ops: [] });
      expect(await s.lastMutationId(doc, 'c1')).toBe(0);
      expect(await s.opsSince(doc, 0, 10)).toEqual([]);
    });

    it('commits ops in version order with their client, mutation id, user and time', async () => {
      const s = await store();
      const doc = uniqueName('d');
      await s.commit(commitOf(doc, 1, { clientId: 'c1', mutationId: 1, userId: 'alice' }));
      await s.commit(commitOf(doc, 2));
      const loaded = await s.load(doc);
      expect(loaded.version).toBe(2);
      expect(loaded.snapshot).toBeUndefined();
      expect(loaded.ops).toEqual([
        { version: 1, patches: [set('/v1', 1)], ts: 1_700_000_000_001, clientId: 'c1', mutationId: 1, userId: 'alice' },
        { version: 2, patches: [set('/v2', 2)], ts: 1_700_000_000_002 },
      ]);
      expect(await s.lastMutationId(doc, 'c1')).toBe(1);
      expect(await s.opsSince(doc, 1, 10)).toEqual([loaded.ops[1]]);
    });

    it('rejects a commit at the wrong version with DocVersionConflict and stores nothing of it', async () => {
      const s = await store();
      const doc = uniqueName('d');
      await s.commit(commitOf(doc, 1));
      for (const version of [1, 3]) {
        const err = await s.commit(commitOf(doc, version, { clientId: 'c9', mutationId: 5 })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DocVersionConflict);
      }
      expect((await s.load(doc)).version).toBe(1);
      expect(await s.lastMutationId(doc, 'c9')).toBe(0);
    });

    it('loads from the latest snapshot plus the ops after it, and compacts only what it covers', async () => {
      const s = await store();
      const doc = uniqueName('d');
      for (let v = 1; v <= 5; v++) {
        await s.commit(commitOf(doc, v, v === 3 ? { snapshot: { v: 3 } } : {}));
      }
      const loaded = await s.load(doc);
      expect(loaded.version).toBe(5);
      expect(loaded.snapshot).toEqual({ version: 3, state: { v: 3 } });
      expect(loaded.ops.map((o) => o.version)).toEqual([4, 5]);
      expect(await s.compact(doc, 5)).toBe(3);
      expect(await s.opsSince(doc, 1, 100)).toBe('too_old');
      expect((await s.opsSince(doc, 3, 100)) as unknown[]).toHaveLength(2);
      expect(await s.opsSince(doc, 2, 1)).toBe('too_old');
      expect(await s.opsSince(doc, 9, 100)).toBe('too_old');
      const again = await s.load(doc);
      expect(again.snapshot?.version).toBe(3);
      expect(again.ops.map((o) => o.version)).toEqual([4, 5]);
    });

    it('advances a client id without an op and never lowers it', async () => {
      const s = await store();
      const doc = uniqueName('d');
      await s.advanceClient(doc, 'c1', 4);
      await s.advanceClient(doc, 'c1', 2);
      expect(await s.lastMutationId(doc, 'c1')).toBe(4);
      expect((await s.load(doc)).version).toBe(0);
      await s.commit(commitOf(doc, 1, { clientId: 'c1', mutationId: 5 }));
      expect(await s.lastMutationId(doc, 'c1')).toBe(5);
      expect(await s.lastMutationId(doc, 'c2')).toBe(0);
    });

    if (factory.multiNode) {
      it('lets exactly one of several nodes commit the same version', async () => {
        const b = await backend();
        const stores = [await b.open(), await b.open(), await b.open()];
        const doc = uniqueName('d');
        await stores[0]?.commit(commitOf(doc, 1));
        const results = await Promise.allSettled(
          stores.map((s, i) => s.commit(commitOf(doc, 2, { clientId: `c${i}`, mutationId: 1 }))),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DocVersionConflict);
        }
        const loaded = await stores[2]?.load(doc);
        expect(loaded?.version).toBe(2);
        const winner = loaded?.ops[1]?.clientId;
        for (let i = 0; i < 3; i++) {
          expect(await stores[1]?.lastMutationId(doc, `c${i}`)).toBe(winner === `c${i}` ? 1 : 0);
        }
      });
    }
  });
}
