import {
  type DocReplica,
  memoryStore,
  type ReplicaStore,
  type SynclineClient,
  type SynclineError,
} from '@syncline/client';
import { type CommitInput, openDatabase, SqliteDocStore, type SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, connectedRawSocket, defer, describeValue, startServer, waitFor, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

/** Client rows are forgotten this long after their last mutation (tiny, so that tests can drive it). */
const RETENTION_MS = 300;
/**
 * Every mutation stores a snapshot, and each snapshot prunes the document's stale client rows. The op log
 * keeps one op: a client catching up gets a snapshot, which cannot tell it which of its mutations were applied.
 */
const DOCS = { todo: testDocNamespace({ snapshotEvery: 1, opLogRetention: 1, clientRetentionMs: RETENTION_MS }) };

/** The embedded store with a gate on commits: a commit can be held until the client's connection is gone. */
class GatedStore extends SqliteDocStore {
  #gate: Promise<void> | undefined;
  held = 0;
  /** Item ids of the committed ops, in order. */
  readonly committed: string[] = [];

  /** Holds the next commits until the returned function is called. */
  hold(): () => void {
    let open = (): void => undefined;
    this.#gate = new Promise((resolve) => {
      open = resolve;
    });
    return () => {
      this.#gate = undefined;
      open();
    };
  }

  override async commit(input: CommitInput): Promise<void> {
    const gate = this.#gate;
    if (gate) {
      this.held++;
      await gate;
    }
    await super.commit(input);
    for (const p of input.patches) {
      const v = p.value as { id?: unknown } | undefined;
      if (typeof v?.id === 'string') this.committed.push(v.id);
    }
  }
}

/** The promise's value or its error. */
function settle<T>(p: Promise<T>): Promise<T | SynclineError> {
  return p.then(
    (v) => v,
    (e: SynclineError) => e,
  );
}

/** Waits out the retention, then makes a server mutation: its snapshot prunes every client row older than that. */
async function pruneAfterRetention(server: SynclineServer, doc: string, clientId: string): Promise<void> {
  const since = Date.now();
  await waitFor(() => Date.now() > since + RETENTION_MS + 20, RETENTION_MS + 1_000, 'retention to pass');
  await server.docs.mutate(doc, 'increment', {});
  expect(await server.docs.store.lastMutationId(doc, clientId)).toBe(0);
  expect(await server.docs.store.clientsPrunedUpTo?.(doc)).toBeGreaterThan(0);
}

/** Applies a mutation as `clientId` over a raw socket: what the server did with a mutation whose reply was lost. */
async function applyAs(server: SynclineServer, doc: string, clientId: string, mutationId: number, id: string) {
  const raw = await connectedRawSocket(server, 'alice');
  const args = { id, text: id };
  raw.send(JSON.stringify({ type: 'doc.mutate', id: 5, doc, clientId, mutationId, name: 'addItem', args }));
  expect(await raw.next((m) => m.id === 5)).toMatchObject({ type: 'reply' });
  raw.ws.close();
}

function itemIds(state: unknown): string[] {
  return (state as TestState).items.map((i) => i.id);
}

/** Alice's replica of `doc`, with the errors it reports. */
async function replicaOf(
  server: SynclineServer,
  doc: string,
  store?: ReplicaStore,
): Promise<{ c: SynclineClient; r: Replica; errors: SynclineError[] }> {
  const c = await client(server, 'alice');
  const r = c.doc(doc, { mutators: testMutators, ...(store ? { store } : {}) }) as Replica;
  const errors: SynclineError[] = [];
  r.on('error', (e) => errors.push(e));
  return { c, r, errors };
}

describe('pruning of client mutation ids', () => {
  it('a pruned client whose reply was lost: the mutation is not applied twice, its caller gets client_expired, the rest goes on under a new id', async () => {
    const db = openDatabase(':memory:');
    defer(() => db.close());
    const store = new GatedStore(db);
    const server = await startServer({ docs: DOCS, docStore: store });
    const doc = 'todo:pruned';
    const { c, r, errors } = await replicaOf(server, doc);
    await r.ready;
    await r.mutate.addItem({ id: 'x1', text: 'one' });
    const oldId = r.clientId;

    // Mutation 2 reaches the server, which commits it after the connection is gone: the reply is lost.
    const release = store.hold();
    const p2 = settle(r.mutate.addItem({ id: 'x2', text: 'two' }));
    await waitForValue(() => store.held, 1, 5_000, 'held commits (mutation 2 started)');
    c.disconnect();
    await waitForValue(() => r.status, 'offline', 5_000, 'replica status');
    release();
    await waitFor(
      () => store.committed.includes('x2'),
      5_000,
      () => `wanted x2 committed, saw committed ${describeValue(store.committed)}`,
    );
    // Made offline, never sent.
    const p3 = settle(r.mutate.addItem({ id: 'x3', text: 'three' }));
    await pruneAfterRetention(server, doc, oldId);

    c.connect();
    expect(await p2).toMatchObject({ code: 'client_expired', group: 'fatal' });
    expect(await p3).toMatchObject({ version: expect.any(Number) });
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    const after = await server.docs.get(doc);
    expect(itemIds(after.state)).toEqual(['x1', 'x2', 'x3']);
    // The rolled-back mutation left the visible state: the replica shows the server's state.
    expect(r.current).toEqual(after.state);
    expect(r.clientId).not.toBe(oldId);
    expect(errors).toEqual([]);

    // The new identity goes on, exactly once.
    await r.mutate.addItem({ id: 'x4', text: 'four' });
    await r.mutate.increment({});
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    const final = await server.docs.get(doc);
    expect(itemIds(final.state)).toEqual(['x1', 'x2', 'x3', 'x4']);
    expect((final.state as TestState).count).toBe(2);
    expect(r.current).toEqual(final.state);
    expect(await server.docs.store.lastMutationId(doc, r.clientId)).toBe(3);
  });

  it('a connected client that did not write for longer than the retention writes on under a new id', async () => {
    const server = await startServer({ docs: DOCS });
    const doc = 'todo:quiet';
    const { r, errors } = await replicaOf(server, doc);
    await r.ready;
    await r.mutate.increment({});
    const oldId = r.clientId;
    await pruneAfterRetention(server, doc, oldId);
    // Mutation 2 gets client_expired; it was never applied, so the replica sends it again as a new client's 1.
    await r.mutate.increment({ by: 10 });
    expect(r.clientId).not.toBe(oldId);
    expect((await server.docs.get(doc)).state).toMatchObject({ count: 12 });
    expect(await server.docs.store.lastMutationId(doc, r.clientId)).toBe(1);
    expect(errors).toEqual([]);
  });

  it('reports mutations restored from the store through the error event, including a lost first mutation', async () => {
    const server = await startServer({ docs: DOCS });
    const doc = 'todo:first';
    const clientId = 'lost-first-reply-1';
    const store = memoryStore();
    // A replica made mutation 1, the server applied it, its reply was lost, and the page went away.
    const made = Date.now();
    await store.save(doc, {
      clientId,
      nextMutationId: 2,
      pending: [{ id: 1, name: 'addItem', args: { id: 'y1', text: 'first' }, ts: made }],
    });
    await applyAs(server, doc, clientId, 1, 'y1');
    await pruneAfterRetention(server, doc, clientId);

    const { r, errors } = await replicaOf(server, doc, store);
    await waitFor(
      () => errors.length > 0 && r.status === 'synced',
      5_000,
      () =>
        `wanted an error and the replica synced, saw errors ${describeValue(errors.map((e) => e.code))}, status ${r.status}`,
    );
    expect(errors.map((e) => e.code)).toEqual(['client_expired']);
    const state = await server.docs.get(doc);
    expect(itemIds(state.state)).toEqual(['y1']);
    expect(r.current).toEqual(state.state);
    expect(r.clientId).not.toBe(clientId);
    await r.mutate.addItem({ id: 'y2', text: 'second' });
    expect(itemIds((await server.docs.get(doc)).state)).toEqual(['y1', 'y2']);
  });

  it('a client that was away with nothing pending continues under a new identity without an error', async () => {
    const server = await startServer({ docs: DOCS });
    const doc = 'todo:idle';
    const { c, r, errors } = await replicaOf(server, doc);
    await r.ready;
    await r.mutate.increment({});
    const oldId = r.clientId;
    c.disconnect();
    await waitForValue(() => r.status, 'offline', 5_000, 'replica status');
    await pruneAfterRetention(server, doc, oldId);
    c.connect();
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    expect(r.clientId).not.toBe(oldId);
    await r.mutate.increment({ by: 10 });
    expect((await server.docs.get(doc)).state).toMatchObject({ count: 12 });
    expect(errors).toEqual([]);
  });

  it('answers client_expired (not mutation_out_of_order) to an unknown client past id 1, and a new client is served', async () => {
    const server = await startServer({ docs: DOCS });
    const doc = 'todo:raw';
    await applyAs(server, doc, 'forgotten-client', 1, 'z1');
    await pruneAfterRetention(server, doc, 'forgotten-client');
    const raw = await connectedRawSocket(server, 'alice');
    const send = (id: number, clientId: string, mutationId: number, extra: Record<string, unknown> = {}) =>
      raw.send(
        JSON.stringify({ type: 'doc.mutate', id, doc, clientId, mutationId, name: 'increment', args: {}, ...extra }),
      );
    send(10, 'forgotten-client', 2);
    expect(await raw.next((m) => m.id === 10)).toMatchObject({ type: 'error', code: 'client_expired' });
    // A first mutation made before the horizon may be a forgotten client's: refused too.
    send(11, 'forgotten-client', 1, { ageMs: 3_600_000 });
    expect(await raw.next((m) => m.id === 11)).toMatchObject({ type: 'error', code: 'client_expired' });
    // A fresh client's first mutation (made just now) is applied.
    send(12, 'brand-new-client', 1, { ageMs: 5 });
    expect(await raw.next((m) => m.id === 12)).toMatchObject({ type: 'reply' });
    // Without pruning on a document, an unknown client past id 1 still gets mutation_out_of_order.
    raw.send(
      JSON.stringify({
        type: 'doc.mutate',
        id: 13,
        doc: 'todo:never-pruned',
        clientId: 'unknown-client',
        mutationId: 3,
        name: 'increment',
        args: {},
      }),
    );
    expect(await raw.next((m) => m.id === 13)).toMatchObject({
      type: 'error',
      code: 'mutation_out_of_order',
      details: { expected: 1 },
    });
    const state = (await server.docs.get(doc)).state as TestState;
    expect(state.count).toBe(2);
  });
});
