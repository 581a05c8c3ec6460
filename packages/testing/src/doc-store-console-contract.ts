import type { DocPatch } from '@syncline/protocol';
import type { CommitInput, DocStore } from '@syncline/server';
import { expect, it } from 'vitest';
import { uniqueName } from './wait.js';

function commitOf(doc: string, version: number, extra: Partial<CommitInput> = {}): CommitInput {
  const patch: DocPatch = { op: 'add', path: [`v${version}`], value: version };
  return { doc, version, patches: [patch], ts: 1_700_000_000_000 + version, ...extra };
}

/**
 * Cases of what an operator console reads from a `DocStore` (`listDocs`,
 * `opsBefore`, `countClients`), registered inside the doc store contract's
 * `describe`.
 */
export function docStoreConsoleCases(store: () => Promise<DocStore>): void {
  it('lists written documents by name in code point order, by prefix, paged after a name', async () => {
    const s = await store();
    const base = uniqueName('list');
    // Code point order: 'Z' < 'a' < 'é' < '中' < an astral character.
    const names = ['a', 'b/1', 'b/2', 'Z', 'é', '中', '😀', 'b'].map((n) => `${base}-${n}`);
    for (const [i, doc] of names.entries()) {
      await s.commit(commitOf(doc, 1, { ts: 1_700_000_000_000 + i }));
      if (i === 0) await s.commit(commitOf(doc, 2, { ts: 1_700_000_000_100 }));
    }
    await s.load(`${base}-never-written`);
    const sorted = ['Z', 'a', 'b', 'b/1', 'b/2', 'é', '中', '😀'].map((n) => `${base}-${n}`);
    const all = await s.listDocs({ prefix: base, limit: 100 });
    expect(all.map((d) => d.doc)).toEqual(sorted);
    expect(all[1]).toEqual({ doc: `${base}-a`, version: 2, updatedAt: 1_700_000_000_100 });
    expect(all[0]).toEqual({ doc: `${base}-Z`, version: 1, updatedAt: 1_700_000_000_003 });
    const pages: string[] = [];
    let after: string | undefined;
    for (let n = 0; n < 10; n++) {
      const page = await s.listDocs({ prefix: base, after, limit: 3 });
      expect(page.length).toBeLessThanOrEqual(3);
      pages.push(...page.map((d) => d.doc));
      if (page.length < 3) break;
      after = page[2]?.doc;
    }
    expect(pages).toEqual(sorted);
    expect((await s.listDocs({ prefix: `${base}-b/`, limit: 10 })).map((d) => d.doc)).toEqual([
      `${base}-b/1`,
      `${base}-b/2`,
    ]);
    // A cursor before the prefix starts at the prefix; one past it ends the list.
    expect((await s.listDocs({ prefix: `${base}-b`, after: base, limit: 1 })).map((d) => d.doc)).toEqual([`${base}-b`]);
    expect(await s.listDocs({ prefix: `${base}-b`, after: `${base}-c`, limit: 10 })).toEqual([]);
    expect(await s.listDocs({ prefix: `${base}-nothing`, limit: 10 })).toEqual([]);
    const everything = await s.listDocs({ prefix: '', after: `${base}-b/2`, limit: 3 });
    expect(everything[0]?.doc).toBe(`${base}-é`);
  });

  it('reads ops backwards, newest first, and only those the log still keeps', async () => {
    const s = await store();
    const doc = uniqueName('d');
    expect(await s.opsBefore(doc, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    for (let v = 1; v <= 6; v++) {
      await s.commit(
        commitOf(
          doc,
          v,
          v === 2 ? { clientId: 'c1', mutationId: 9, userId: 'ann', snapshot: { v }, schemaVersion: 2 } : {},
        ),
      );
    }
    const newest = await s.opsBefore(doc, Number.MAX_SAFE_INTEGER, 2);
    expect(newest.map((o) => o.version)).toEqual([6, 5]);
    const older = await s.opsBefore(doc, 3, 10);
    expect(older.map((o) => o.version)).toEqual([2, 1]);
    expect(older[0]).toEqual({
      version: 2,
      patches: [{ op: 'add', path: ['v2'], value: 2 }],
      ts: 1_700_000_000_002,
      clientId: 'c1',
      mutationId: 9,
      userId: 'ann',
      schemaVersion: 2,
    });
    await s.compact(doc, 2);
    expect((await s.opsBefore(doc, 5, 10)).map((o) => o.version)).toEqual([4, 3]);
    expect(await s.opsBefore(doc, 1, 10)).toEqual([]);
  });

  it('keeps the mutator call of each op: name, arguments when given, and their size', async () => {
    const s = await store();
    const doc = uniqueName('d');
    const args = { text: 'héllo', tags: ['a', 'b'], n: 1.5 };
    const json = JSON.stringify(args);
    await s.commit(commitOf(doc, 1, { call: { mutator: 'send', argsJson: json, argsBytes: Buffer.byteLength(json) } }));
    await s.commit(commitOf(doc, 2, { call: { mutator: 'bulk', argsBytes: 50_000 } }));
    await s.commit(commitOf(doc, 3));
    const [three, two, one] = await s.opsBefore(doc, 4, 10);
    expect(one).toMatchObject({ version: 1, mutator: 'send', args });
    expect(one?.argsBytes).toBe(Buffer.byteLength(json));
    expect(two).toMatchObject({ version: 2, mutator: 'bulk', argsBytes: 50_000 });
    expect(two && 'args' in two).toBe(false);
    expect(three && ('mutator' in three || 'argsBytes' in three)).toBe(false);
    expect((await s.load(doc)).ops.map((o) => o.mutator)).toEqual(['send', 'bulk', undefined]);
  });

  it('counts the clients it keeps a last mutation id for', async () => {
    const s = await store();
    const doc = uniqueName('d');
    expect(await s.countClients(doc)).toBe(0);
    await s.commit(commitOf(doc, 1, { clientId: 'c1', mutationId: 1, ts: 1_000 }));
    await s.commit(commitOf(doc, 2, { clientId: 'c1', mutationId: 2, ts: 2_000 }));
    await s.commit(commitOf(doc, 3));
    await s.advanceClient(doc, 'c2', 4);
    await s.commit(commitOf(uniqueName('d'), 1, { clientId: 'c3', mutationId: 1 }));
    expect(await s.countClients(doc)).toBe(2);
    await s.pruneClients?.(doc, 3_000);
    expect(await s.countClients(doc)).toBe(1);
  });
}
