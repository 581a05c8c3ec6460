import type { DocPatch } from '@syncline/protocol';
import { type CommitInput, type DocStore, DocVersionConflict } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { docStoreConsoleCases } from './doc-store-console-contract.js';
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

    docStoreConsoleCases(store);

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

    it('runs commit listeners in the commit: a conflict calls none, a listener that throws fails the commit', async () => {
      const s = await store();
      if (!s.onCommit) return;
      const doc = uniqueName('d');
      const seen: number[] = [];
      const remove = s.onCommit((input) => {
        if (input.doc !== doc) return;
        seen.push(input.version);
        if (input.version === 2) throw new Error('listener refused');
      });
      await s.commit(commitOf(doc, 1));
      await expect(s.commit(commitOf(doc, 3))).rejects.toBeInstanceOf(DocVersionConflict);
      await expect(s.commit(commitOf(doc, 2, { clientId: 'c1', mutationId: 1 }))).rejects.toThrow('listener refused');
      expect(seen).toEqual([1, 2]);
      expect((await s.load(doc)).version).toBe(1);
      expect(await s.lastMutationId(doc, 'c1')).toBe(0);
      remove();
      await s.commit(commitOf(doc, 2));
      expect(seen).toEqual([1, 2]);
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

    it('commits made at once on many documents all land; a conflicting one among them fails alone', async () => {
      const s = await store();
      const docs = Array.from({ length: 20 }, () => uniqueName('d'));
      await s.commit(commitOf(docs[0] as string, 1));
      // Issued together (the embedded store writes one event-loop turn's commits in one transaction).
      const results = await Promise.allSettled([
        ...docs.map((d, i) => s.commit(commitOf(d, i === 0 ? 2 : 1, { clientId: 'c', mutationId: i + 1 }))),
        s.commit(commitOf(docs[1] as string, 5)),
      ]);
      expect(results.slice(0, docs.length).every((r) => r.status === 'fulfilled')).toBe(true);
      const last = results.at(-1) as PromiseRejectedResult;
      expect(last.status).toBe('rejected');
      expect(last.reason).toBeInstanceOf(DocVersionConflict);
      for (const [i, d] of docs.entries()) {
        const loaded = await s.load(d);
        expect([d, loaded.version, loaded.ops.length]).toEqual([d, i === 0 ? 2 : 1, i === 0 ? 2 : 1]);
        expect(await s.lastMutationId(d, 'c')).toBe(i + 1);
      }
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

    it('prunes client rows not updated since a time, keeps the others and records the horizon', async () => {
      const s = await store();
      if (!s.pruneClients || !s.clientsPrunedUpTo) throw new Error('the store must implement client pruning');
      const doc = uniqueName('d');
      const other = uniqueName('d');
      const t = 1_700_000_000_000;
      await s.commit(commitOf(doc, 1, { clientId: 'old1', mutationId: 3, ts: t + 10 }));
      await s.commit(commitOf(doc, 2, { clientId: 'old2', mutationId: 1, ts: t + 20 }));
      await s.commit(commitOf(doc, 3, { clientId: 'new1', mutationId: 7, ts: t + 30 }));
      await s.commit(commitOf(other, 1, { clientId: 'old1', mutationId: 1, ts: t + 5 }));
      expect(await s.clientsPrunedUpTo(doc)).toBe(0);
      expect(await s.pruneClients(doc, t + 30)).toBe(2);
      expect(await s.lastMutationId(doc, 'old1')).toBe(0);
      expect(await s.lastMutationId(doc, 'old2')).toBe(0);
      expect(await s.lastMutationId(doc, 'new1')).toBe(7);
      expect(await s.clientsPrunedUpTo(doc)).toBe(t + 20);
      // Another document keeps its rows and has no horizon.
      expect(await s.lastMutationId(other, 'old1')).toBe(1);
      expect(await s.clientsPrunedUpTo(other)).toBe(0);
      // The op log and the version are untouched.
      expect((await s.load(doc)).version).toBe(3);
      // Nothing to prune: 0, the horizon stays.
      expect(await s.pruneClients(doc, t + 30)).toBe(0);
      expect(await s.clientsPrunedUpTo(doc)).toBe(t + 20);
    });

    it('never lowers the pruning horizon, and a pruned client that writes again has a row again', async () => {
      const s = await store();
      if (!s.pruneClients || !s.clientsPrunedUpTo) throw new Error('the store must implement client pruning');
      const doc = uniqueName('d');
      const t = 1_700_000_000_000;
      await s.commit(commitOf(doc, 1, { clientId: 'a', mutationId: 1, ts: t + 100 }));
      expect(await s.pruneClients(doc, t + 101)).toBe(1);
      expect(await s.clientsPrunedUpTo(doc)).toBe(t + 100);
      await s.commit(commitOf(doc, 2, { clientId: 'b', mutationId: 1, ts: t + 50 }));
      expect(await s.pruneClients(doc, t + 60)).toBe(1);
      expect(await s.clientsPrunedUpTo(doc)).toBe(t + 100);
      await s.commit(commitOf(doc, 3, { clientId: 'a', mutationId: 1, ts: t + 200 }));
      expect(await s.lastMutationId(doc, 'a')).toBe(1);
      // A row advanced without an op is pruned like any other.
      await s.advanceClient(doc, 'c', 2);
      expect(await s.pruneClients(doc, Date.now() + 1_000)).toBe(2);
      expect(await s.lastMutationId(doc, 'c')).toBe(0);
      expect(await s.clientsPrunedUpTo(doc)).toBeGreaterThan(t + 200);
    });

    if (factory.multiNode) {
      it('shows a pruning made by one node to the others (row gone, horizon raised)', async () => {
        const b = await backend();
        const [a, other] = [await b.open(), await b.open()];
        const doc = uniqueName('d');
        const t = 1_700_000_000_000;
        await a.commit(commitOf(doc, 1, { clientId: 'gone', mutationId: 4, ts: t + 1 }));
        expect(await other.lastMutationId(doc, 'gone')).toBe(4);
        expect(await a.pruneClients?.(doc, t + 2)).toBe(1);
        expect(await other.lastMutationId(doc, 'gone')).toBe(0);
        expect(await other.clientsPrunedUpTo?.(doc)).toBe(t + 1);
      });

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
