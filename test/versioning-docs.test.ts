import { fileStore } from '@syncline/client';
import type { SynclineError } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, startServer, tempDir, waitForValue, waitState } from './helpers.js';
import { mutatorsV1, mutatorsV3, type NotesV1, notesV1, notesV2, notesV3 } from './versioning-fixtures.js';

describe('document schema versions and migrations', () => {
  it('migrates a stored v1 document to v3 on load, records it in the op log, and a v1-cached client converges', async () => {
    const dataDir = tempDir();
    const cache = tempDir();
    const v1 = await startServer({ dataDir, docs: { notes: notesV1 } });
    const port = v1.port;
    const c1 = await client(v1, 'alice');
    const r1 = c1.doc('notes:1', { mutators: mutatorsV1, store: fileStore(cache) });
    await r1.ready;
    await r1.mutate.add({ text: 'milk' });
    await r1.mutate.add({ text: 'eggs' });
    expect(r1.confirmed).toEqual({ title: 'Notes', items: ['milk', 'eggs'] });
    await r1.flush();
    await r1.close();
    c1.close();
    await v1.close();

    // The new build: schema 3 with migrations 2 and 3, mutator sets older than 2 refused.
    const v3 = await startServer({ dataDir, port, docs: { notes: notesV3 } });
    const migrated = {
      meta: { title: 'Notes' },
      items: [
        { text: 'milk', done: false },
        { text: 'eggs', done: false },
      ],
    };
    expect(await v3.docs.get('notes:1')).toEqual({ version: 3, state: migrated, schemaVersion: 3 });
    const ops = await v3.docs.store.opsSince('notes:1', 2, 10);
    expect(ops).toEqual([
      { version: 3, patches: [{ op: 'replace', path: [], value: migrated }], ts: expect.any(Number), schemaVersion: 3 },
    ]);

    // A client still running the old bundle, with the v1 state cached, converges to the v3 state …
    const c2 = await client(v3, 'alice');
    const r2 = c2.doc('notes:1', { mutators: mutatorsV1, store: fileStore(cache) });
    await r2.ready;
    await waitForValue(
      () => ({ version: r2.version, status: r2.status }),
      { version: 3, status: 'synced' },
      5_000,
      'replica after the catch-up',
    );
    expect(r2.confirmed).toEqual(migrated);
    // … and its mutations are refused with client_outdated, not run on a shape it does not know.
    const err = (await r2.mutate.add({ text: 'bread' }).catch((e: unknown) => e)) as SynclineError;
    expect(err.code).toBe('client_outdated');
    expect(err.details).toEqual({ reason: 'mutators', mutatorVersion: 1, minMutatorVersion: 2 });
    await waitForValue(() => r2.pendingCount, 0, 5_000, 'pending count (rollback)');
    expect(r2.current).toEqual(migrated);

    // A current client works and the old one keeps reading.
    const c3 = await client(v3, 'bob');
    const r3 = c3.doc('notes:1', { mutators: mutatorsV3 });
    await r3.ready;
    await r3.mutate.rename({ title: 'Shopping' });
    await waitForValue(
      () => (r2.confirmed as { meta?: { title: string } }).meta?.title,
      'Shopping',
      5_000,
      'confirmed title',
    );

    // Unknown mutator names are a documented error.
    await expect(v3.docs.mutate('notes:1', 'delete', {})).rejects.toMatchObject({ code: 'unknown_mutator' });
    await expect(r3.mutate.rename({ title: 'x' })).resolves.toMatchObject({ version: 5 });

    // Loading again migrates nothing more.
    c2.close();
    c3.close();
    await v3.close();
    const again = await startServer({ dataDir, port, docs: { notes: notesV3 } });
    expect((await again.docs.get('notes:1')).version).toBe(5);
    expect(await again.docs.store.opsSince('notes:1', 5, 10)).toEqual([]);
  });

  it('migrates a document that was compacted into a snapshot, step by step (v1 → v2 → v3)', async () => {
    const dataDir = tempDir();
    const v1 = await startServer({ dataDir, docs: { notes: { ...notesV1, snapshotEvery: 2, opLogRetention: 1 } } });
    const port = v1.port;
    for (const text of ['a', 'b', 'c', 'd']) await v1.docs.mutate('notes:s', 'add', { text });
    await v1.close();
    const v2 = await startServer({ dataDir, port, docs: { notes: notesV2 } });
    expect((await v2.docs.get('notes:s')).state).toEqual({
      title: 'Notes',
      items: ['a', 'b', 'c', 'd'].map((text) => ({ text, done: false })),
    });
    await v2.docs.mutate('notes:s', 'toggle', { index: 0 });
    await v2.close();
    const v3 = await startServer({ dataDir, port, docs: { notes: notesV3 } });
    const { version, state } = await v3.docs.get('notes:s');
    expect(version).toBe(7);
    expect(state).toEqual({
      meta: { title: 'Notes' },
      items: [{ text: 'a', done: true }, ...['b', 'c', 'd'].map((text) => ({ text, done: false }))],
    });
    // A fresh client gets the migrated snapshot.
    const c = await client(v3, 'carol');
    const r = c.doc('notes:s', { mutators: mutatorsV3 });
    await r.ready;
    expect(r.current).toEqual(state);
  });

  it('an older node refuses a document a newer node already migrated, with unavailable', async () => {
    const dataDir = tempDir();
    const v1 = await startServer({ dataDir, docs: { notes: notesV1 } });
    const port = v1.port;
    await v1.docs.mutate('notes:n', 'add', { text: 'x' });
    await v1.close();
    const v3 = await startServer({ dataDir, port, docs: { notes: notesV3 } });
    expect((await v3.docs.get('notes:n')).version).toBe(2);
    await v3.close();
    const old = await startServer({ dataDir, port, docs: { notes: notesV2 } });
    await expect(old.docs.get('notes:n')).rejects.toMatchObject({
      code: 'unavailable',
      details: { schemaVersion: 3, nodeSchemaVersion: 2 },
    });
    // A client of the old node is told to retry, not given a shape its code does not know.
    const c = await client(old, 'dan');
    await waitState(c, 'connected');
    const r = c.doc('notes:n', { mutators: mutatorsV1 });
    const e = await new Promise<SynclineError>((resolve) => r.on('error', resolve));
    expect(e.code).toBe('unavailable');
    expect(r.current as NotesV1 | undefined).toBeUndefined();
  });

  it('a new document starts at the current schema version without a migration op', async () => {
    const server = await startServer({ docs: { notes: notesV3 } });
    await server.docs.mutate('notes:new', 'add', { text: 'first' });
    const ops = await server.docs.store.opsSince('notes:new', 0, 10);
    expect(ops).toHaveLength(1);
    expect(ops !== 'too_old' && ops[0]?.schemaVersion).toBe(3);
  });

  it('rejects malformed schema settings at startup', async () => {
    const bad = (o: object) => startServer({ docs: { notes: { ...notesV3, ...o } } });
    await expect(bad({ schemaVersion: 0 })).rejects.toThrow(/schemaVersion/);
    await expect(bad({ schemaVersion: 2 })).rejects.toThrow(/migrations/);
    await expect(bad({ migrations: { 1: (s: unknown) => s } })).rejects.toThrow(/migrations/);
    await expect(bad({ minMutatorVersion: -1 })).rejects.toThrow(/minMutatorVersion/);
  });
});
