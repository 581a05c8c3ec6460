import { type DocReplica, fileStore } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, startServer, tempDir, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

describe('documents offline', () => {
  it('keeps pending mutations across a reload while offline (file store) and sends them once online', async () => {
    const server = await startServer({ docs: { todo: testDocNamespace() } });
    const dir = tempDir();
    const c1 = await client(server, 'alice');
    const r1 = c1.doc('todo:off', { mutators: testMutators, store: fileStore(dir) }) as Replica;
    await r1.ready;
    await r1.mutate.increment({});
    await waitForValue(() => r1.status, 'synced', 5_000, 'replica status');

    c1.disconnect();
    await waitForValue(() => r1.status, 'offline', 5_000, 'replica status');
    void r1.mutate.increment({}).catch(() => undefined);
    void r1.mutate.addItem({ id: 'offline-1', text: 'written offline' }).catch(() => undefined);
    void r1.mutate.increment({ by: 5 }).catch(() => undefined);
    expect(r1.current?.count).toBe(7);
    await r1.flush();
    // "Reload": the page goes away with its pending mutations unsent.
    c1.close();
    expect((await server.docs.get('todo:off')).version).toBe(1);

    const c2 = await client(server, 'alice', { autoConnect: false });
    const r2 = c2.doc('todo:off', { mutators: testMutators, store: fileStore(dir) }) as Replica;
    await r2.ready;
    expect(r2.status).toBe('offline');
    expect(r2.pendingCount).toBe(3);
    expect(r2.current?.count).toBe(7);
    expect(r2.current?.items.map((i) => i.id)).toEqual(['offline-1']);

    c2.connect();
    await waitForValue(() => r2.status, 'synced', 10_000, 'replica status');
    const final = await server.docs.get('todo:off');
    expect(final.version).toBe(4);
    expect((final.state as TestState).count).toBe(7);
    expect(r2.current).toEqual(final.state);

    // A second reload sends nothing again.
    await r2.flush();
    c2.close();
    const c3 = await client(server, 'alice');
    const r3 = c3.doc('todo:off', { mutators: testMutators, store: fileStore(dir) }) as Replica;
    await r3.ready;
    await waitForValue(() => r3.status, 'synced', 5_000, 'replica status');
    expect(r3.pendingCount).toBe(0);
    expect((await server.docs.get('todo:off')).version).toBe(4);
  });
});
