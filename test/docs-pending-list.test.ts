import type { DocReplica, PendingMutation } from '@syncline/client';
import { SynclineError } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, startServer, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

describe('DocReplica.pending and DocReplica.closed', () => {
  it('lists pending mutations, in step with current, until the server confirms them', async () => {
    const server = await startServer({ docs: { todo: testDocNamespace() } });
    const c = await client(server, 'alice');
    const r = c.doc('todo:pending', { mutators: testMutators }) as Replica;
    await r.ready;
    await waitForValue(() => r.status, 'synced', 10_000, 'replica status');
    expect(r.pending).toEqual([]);

    // Every notification shows a list that matches the state it comes with.
    const views: Array<{ count: number | undefined; pending: readonly PendingMutation[] }> = [];
    r.subscribe(() => views.push({ count: r.current?.count, pending: r.pending }));

    c.disconnect();
    await waitForValue(() => r.status, 'offline', 10_000, 'replica status');
    const first = r.mutate.increment({ by: 2 });
    const second = r.mutate.addItem({ id: 'a', text: 'sending' });
    expect(r.pending).toEqual([
      { name: 'increment', args: { by: 2 }, mutationId: expect.any(Number) },
      { name: 'addItem', args: { id: 'a', text: 'sending' }, mutationId: expect.any(Number) },
    ]);
    const [p1, p2] = r.pending as [PendingMutation, PendingMutation];
    expect(p2.mutationId).toBeGreaterThan(p1.mutationId);
    expect(Object.isFrozen(r.pending)).toBe(true);
    // Stable between notifications.
    expect(r.pending).toBe(r.pending);
    expect(views.at(-1)).toEqual({ count: 2, pending: r.pending });

    c.connect();
    await Promise.all([first, second]);
    await waitForValue(() => r.status, 'synced', 10_000, 'replica status');
    expect(r.pending).toEqual([]);
    expect(views.at(-1)?.pending).toEqual([]);
    expect(r.current?.count).toBe(2);
  });

  it('drops a rolled-back mutation from the list', async () => {
    const server = await startServer({ docs: { todo: testDocNamespace() } });
    const c = await client(server, 'alice');
    const r = c.doc('todo:rollback', { mutators: testMutators }) as Replica;
    await r.ready;
    await waitForValue(() => r.status, 'synced', 10_000, 'replica status');
    const refused = r.mutate.serverRejects(null);
    expect(r.pending.map((p) => p.name)).toEqual(['serverRejects']);
    await expect(refused).rejects.toBeInstanceOf(SynclineError);
    await waitForValue(() => r.pending.map((p) => p.name), [], 10_000, 'pending mutations');
    expect(r.current?.count).toBe(0);
  });

  it('closed is false while open and true after close(); a closed replica refuses mutations', async () => {
    const server = await startServer({ docs: { todo: testDocNamespace() } });
    const c = await client(server, 'alice');
    const r = c.doc('todo:closing', { mutators: testMutators }) as Replica;
    await r.ready;
    expect(r.closed).toBe(false);
    await r.close();
    expect(r.closed).toBe(true);
    await expect(r.mutate.increment({})).rejects.toMatchObject({ code: 'client_closed' });
    // The client opens a new replica for the same name.
    const again = c.doc('todo:closing', { mutators: testMutators }) as Replica;
    expect(again).not.toBe(r);
    expect(again.closed).toBe(false);
  });
});
