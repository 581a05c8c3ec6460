import type { DocReplica } from '@syncline/client';
import { type CommitInput, type DocListQuery, type DocStore, openDatabase, SqliteDocStore } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, defer, startServer, waitForAtLeast, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

/**
 * The embedded SQLite store with a switch that makes commits fail, as a disk
 * or database outage would: fault injection around the real store.
 */
class FlakyStore implements DocStore {
  failing = false;
  failedCommits = 0;
  readonly inner: SqliteDocStore;
  constructor(inner: SqliteDocStore) {
    this.inner = inner;
  }
  load(doc: string) {
    return this.inner.load(doc);
  }
  async commit(input: CommitInput) {
    if (this.failing) {
      this.failedCommits++;
      throw new Error('disk I/O error (injected)');
    }
    return this.inner.commit(input);
  }
  advanceClient(doc: string, clientId: string, mutationId: number) {
    return this.inner.advanceClient(doc, clientId, mutationId);
  }
  lastMutationId(doc: string, clientId: string) {
    return this.inner.lastMutationId(doc, clientId);
  }
  opsSince(doc: string, version: number, limit: number) {
    return this.inner.opsSince(doc, version, limit);
  }
  compact(doc: string, upTo: number) {
    return this.inner.compact(doc, upTo);
  }
  opsBefore(doc: string, before: number, limit: number) {
    return this.inner.opsBefore(doc, before, limit);
  }
  listDocs(query: DocListQuery) {
    return this.inner.listDocs(query);
  }
  countClients(doc: string) {
    return this.inner.countClients(doc);
  }
  close() {
    return this.inner.close();
  }
}

describe('documents: temporary storage failure', () => {
  it('is retried, never advances the mutation id, and applies each mutation exactly once afterwards', async () => {
    const db = openDatabase(':memory:');
    defer(() => db.close());
    const store = new FlakyStore(new SqliteDocStore(db));
    const server = await startServer({ docs: { todo: testDocNamespace() }, docStore: store });
    const c = await client(server, 'alice');
    const r = c.doc('todo:outage', { mutators: testMutators }) as Replica;
    await r.ready;
    await r.mutate.increment({});
    expect((await server.docs.get('todo:outage')).version).toBe(1);

    store.failing = true;
    const pending = [r.mutate.increment({}), r.mutate.increment({ by: 10 })];
    // Optimistic state shows both right away.
    expect(r.current?.count).toBe(12);
    await waitForAtLeast(() => store.failedCommits, 2, 10_000, 'commits attempted during the outage');
    // Nothing was stored, and the client's id did not move past the first mutation.
    const during = await server.docs.get('todo:outage');
    expect(during.version).toBe(1);
    expect((during.state as TestState).count).toBe(1);
    expect(r.status).toBe('pending');

    store.failing = false;
    await Promise.all(pending);
    const after = await server.docs.get('todo:outage');
    expect((after.state as TestState).count).toBe(12);
    expect(after.version).toBe(3);
    await waitForValue(
      () => ({ status: r.status, version: r.version }),
      { status: 'synced', version: 3 },
      10_000,
      'replica',
    );
    expect(r.current).toEqual(after.state);
  });
});
