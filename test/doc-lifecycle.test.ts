import type { DocReplica } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, startServer, tempDir, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

const SNAPSHOT_EVERY = 10;
const RETENTION = 25;

describe('document op log compaction and retention', () => {
  it('keeps at least the retention and at most retention + snapshotEvery ops, and reloads the same state', async () => {
    const dataDir = tempDir();
    const docs = { ret: testDocNamespace({ snapshotEvery: SNAPSHOT_EVERY, opLogRetention: RETENTION }) };
    const server = await startServer({ dataDir, docs });
    for (let i = 0; i < 100; i++) await server.docs.mutate('ret:a', 'increment', {});
    const store = server.docs.store;

    // The newest `RETENTION` ops are always kept, so a client that far behind catches up through ops.
    const recent = await store.opsSince('ret:a', 100 - RETENTION, 10_000);
    expect(Array.isArray(recent) && recent.map((op) => op.version)).toEqual(
      Array.from({ length: RETENTION }, (_, i) => 100 - RETENTION + 1 + i),
    );
    // Older ops are compacted into snapshots: the log never holds more than retention + snapshotEvery.
    expect(await store.opsSince('ret:a', 100 - RETENTION - SNAPSHOT_EVERY - 1, 10_000)).toBe('too_old');
    expect(await store.opsSince('ret:a', 0, 10_000)).toBe('too_old');
    const loaded = await store.load('ret:a');
    expect(loaded.version).toBe(100);
    expect(loaded.snapshot?.version).toBeGreaterThan(100 - SNAPSHOT_EVERY - 1);
    expect(loaded.ops.map((op) => op.version)).toEqual(
      Array.from({ length: 100 - (loaded.snapshot?.version ?? 0) }, (_, i) => (loaded.snapshot?.version ?? 0) + 1 + i),
    );

    // A restart on the same data folder rebuilds the document from snapshot + remaining ops.
    await server.close();
    const again = await startServer({ dataDir, docs });
    expect(again.docs.loadedCount).toBe(0);
    expect(await again.docs.get('ret:a')).toMatchObject({ version: 100, state: { count: 100 } });
    expect(await again.docs.mutate('ret:a', 'increment', {})).toMatchObject({ version: 101 });
    expect((await again.docs.get('ret:a')).state).toMatchObject({ count: 101 });
  });
});

describe('document loading and idle unload', () => {
  it('loads documents lazily, unloads them when idle and unsubscribed, and reloads them intact', async () => {
    const dataDir = tempDir();
    const docs = { idle: testDocNamespace({ idleUnloadMs: 150 }) };
    const server = await startServer({ dataDir, docs });
    expect(server.docs.loadedCount).toBe(0);

    // `idle:watched` has a subscriber; `idle:lone` only gets server mutations.
    const c = await client(server, 'alice');
    const watched = c.doc('idle:watched', { mutators: testMutators }) as Replica;
    await watched.ready;
    await watched.mutate.increment({});
    for (let i = 0; i < 3; i++) await server.docs.mutate('idle:lone', 'increment', {});
    expect(server.docs.loadedCount).toBe(2);

    // The unwatched one is unloaded once idle; the subscribed one stays in memory meanwhile.
    await waitForValue(() => server.docs.loadedCount, 1, 10_000, 'loaded documents (idle:lone unloaded)');
    expect(server.docs.subscriberCount('idle:watched')).toBe(1);
    // Its state survived the unload: it is loaded again from storage on demand.
    expect(await server.docs.get('idle:lone')).toMatchObject({ version: 3, state: { count: 3 } });
    expect(server.docs.loadedCount).toBe(2);
    expect(await server.docs.mutate('idle:lone', 'increment', {})).toMatchObject({ version: 4 });

    // Once its last subscriber leaves, the watched document is unloaded too.
    await watched.close();
    await waitForValue(() => server.docs.loadedCount, 0, 10_000, 'loaded documents');
    expect(await server.docs.get('idle:watched')).toMatchObject({ version: 1, state: { count: 1 } });

    // A new subscriber of an unloaded document gets it from storage and keeps mutating it.
    await waitForValue(() => server.docs.loadedCount, 0, 10_000, 'loaded documents (idle:watched unloaded again)');
    const again = c.doc('idle:watched', { mutators: testMutators }) as Replica;
    await again.ready;
    await waitForValue(() => again.version, 1, 10_000, 'replica version');
    await again.mutate.increment({});
    expect(await server.docs.get('idle:watched')).toMatchObject({ version: 2, state: { count: 2 } });
  });
});
