import type { DocReplica, SynclineClient } from '@syncline/client';
import { UNDO_MAX_STEPS } from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, undoMutators } from './docs-fixtures.js';
import { client, rawSocket, startServer, token, waitForValue } from './helpers.js';

const mutators = undoMutators;

type Replica = DocReplica<TestState, typeof mutators>;

const DOCS = {
  todo: testDocNamespace({ mutators, undo: true, maxBytes: 20_000 }),
  plain: testDocNamespace({ mutators }),
  guarded: testDocNamespace({ mutators, undo: { allow: (step) => step.path[0] === 'items' } }),
};

async function editors(server: SynclineServer, doc: string, users: string[]) {
  const clients: SynclineClient[] = [];
  const replicas: Replica[] = [];
  for (const u of users) {
    const c = await client(server, u);
    clients.push(c);
    replicas.push(c.doc(doc, { mutators, undo: true }) as Replica);
  }
  await Promise.all(replicas.map((r) => r.ready));
  await waitForValue(
    () => replicas.map((r) => r.status),
    replicas.map(() => 'synced'),
    10_000,
    'replica statuses',
  );
  return { clients, replicas };
}

/** Waits until every replica is synced at the server's version, and returns the server's state. */
async function settled(replicas: Replica[], server: SynclineServer, doc: string): Promise<TestState> {
  const target = await server.docs.get(doc);
  await waitForValue(
    () => replicas.map((r) => `${r.status} v${r.version}`),
    replicas.map(() => `synced v${target.version}`),
    15_000,
    'replicas',
  );
  for (const r of replicas) expect(r.current).toEqual(target.state);
  return target.state as TestState;
}

const ids = (s: TestState) => s.items.map((i) => i.id);

describe('document undo', () => {
  it('undoes only the own change among three concurrent editors; redo brings it back; all converge', async () => {
    const server = await startServer({ docs: DOCS });
    const { replicas } = await editors(server, 'todo:u1', ['alice', 'bob', 'carol']);
    const [alice, bob, carol] = replicas as [Replica, Replica, Replica];
    expect(alice.canUndo).toBe(false);
    await Promise.all([
      alice.mutate.addItem({ id: 'a1', text: 'alice' }),
      bob.mutate.addItem({ id: 'b1', text: 'bob' }),
      carol.mutate.insertFirst({ id: 'c1', text: 'carol' }),
    ]);
    await settled(replicas, server, 'todo:u1');
    // Others' edits shift alice's item; her undo must still find it.
    await carol.mutate.insertFirst({ id: 'c2', text: 'carol again' });
    await settled(replicas, server, 'todo:u1');
    expect(alice.canUndo).toBe(true);

    const undone = alice.undo();
    expect(ids(alice.current as TestState)).not.toContain('a1');
    expect(alice.canRedo).toBe(true);
    await undone;
    let state = await settled(replicas, server, 'todo:u1');
    expect(ids(state).sort()).toEqual(['b1', 'c1', 'c2']);
    expect(alice.canUndo).toBe(false);

    await alice.redo();
    state = await settled(replicas, server, 'todo:u1');
    expect(ids(state).sort()).toEqual(['a1', 'b1', 'c1', 'c2']);
    expect([alice.canUndo, alice.canRedo]).toEqual([true, false]);

    // Bob's and carol's stacks are their own.
    await bob.undo();
    state = await settled(replicas, server, 'todo:u1');
    expect(ids(state).sort()).toEqual(['a1', 'c1', 'c2']);
    await carol.undo();
    await carol.undo();
    state = await settled(replicas, server, 'todo:u1');
    expect(ids(state)).toEqual(['a1']);
  });

  it('leaves a value someone else changed since; the other editor can still undo theirs', async () => {
    const server = await startServer({ docs: DOCS });
    const { replicas } = await editors(server, 'todo:u2', ['alice', 'bob']);
    const [alice, bob] = replicas as [Replica, Replica];
    await alice.mutate.setCount({ value: 5 });
    await alice.mutate.addItem({ id: 'a1', text: 'first' });
    await settled(replicas, server, 'todo:u2');
    await bob.mutate.setCount({ value: 7 });
    await bob.mutate.rename({ id: 'a1', text: 'renamed by bob' });
    await settled(replicas, server, 'todo:u2');

    // Alice's item now holds bob's text: undoing her add would revert his rename, so it stays.
    await alice.undo();
    await alice.undo();
    let state = await settled(replicas, server, 'todo:u2');
    expect(state.count).toBe(7);
    expect(state.items.map((i) => i.text)).toEqual(['renamed by bob']);

    await bob.undo();
    await bob.undo();
    state = await settled(replicas, server, 'todo:u2');
    expect(state.count).toBe(5);
    expect(state.items.map((i) => i.text)).toEqual(['first']);
  });

  it('a batch is one undo step; redo re-applies all of it', async () => {
    const server = await startServer({ docs: DOCS });
    const { replicas } = await editors(server, 'todo:u3', ['alice', 'bob']);
    const [alice, bob] = replicas as [Replica, Replica];
    await alice.mutate.addItem({ id: 'keep', text: 'before the batch' });
    const done = alice.batch(() =>
      Promise.all([
        alice.mutate.addItem({ id: 'x', text: 'x' }),
        alice.mutate.addItem({ id: 'y', text: 'y' }),
        alice.mutate.increment({ by: 3 }),
      ]),
    );
    void bob.mutate.tally({ key: 'bob' });
    await done;
    await settled(replicas, server, 'todo:u3');

    await alice.undo();
    let state = await settled(replicas, server, 'todo:u3');
    expect(ids(state)).toEqual(['keep']);
    expect(state.count).toBe(0);
    expect(state.tally).toEqual({ bob: 1 });

    await alice.redo();
    state = await settled(replicas, server, 'todo:u3');
    expect(ids(state)).toEqual(['keep', 'x', 'y']);
    expect(state.count).toBe(3);
    expect(alice.canUndo).toBe(true);
  });

  it('undoes while offline and converges after the reconnect', async () => {
    const server = await startServer({ docs: DOCS });
    const { clients, replicas } = await editors(server, 'todo:u4', ['alice', 'bob']);
    const [alice, bob] = replicas as [Replica, Replica];
    await alice.mutate.addItem({ id: 'a1', text: 'online' });
    await settled(replicas, server, 'todo:u4');

    clients[0]?.disconnect();
    await waitForValue(() => alice.status, 'offline', 5_000, 'alice status');
    const undone = alice.undo();
    void alice.mutate.addItem({ id: 'a2', text: 'offline' }).catch(() => undefined);
    const undone2 = alice.undo();
    expect(ids(alice.current as TestState)).toEqual([]);
    await bob.mutate.insertFirst({ id: 'b1', text: 'bob meanwhile' });

    clients[0]?.connect();
    await Promise.all([undone, undone2]);
    const state = await settled(replicas, server, 'todo:u4');
    expect(ids(state)).toEqual(['b1']);
  });

  it('an undo made before the server answered waits for its verdict; a rejected mutation is left out', async () => {
    const server = await startServer({ docs: DOCS });
    const { replicas } = await editors(server, 'todo:u5', ['alice', 'bob']);
    const [alice, bob] = replicas as [Replica, Replica];
    // `at` is the server's timestamp: the undo must remove what the server stored, not the speculative item.
    const added = alice.mutate.addItem({ id: 'quick', text: 'undone at once' });
    const undone = alice.undo();
    expect(ids(alice.current as TestState)).toEqual([]);
    await Promise.all([added, undone]);
    let state = await settled(replicas, server, 'todo:u5');
    expect(ids(state)).toEqual([]);

    await bob.mutate.increment({ by: 2 });
    const batch = alice.batch(() => [
      alice.mutate.tally({ key: 'alice' }),
      alice.mutate.serverRejects(null).catch((e: unknown) => e),
    ]);
    await alice.undo();
    await Promise.all(batch);
    state = await settled(replicas, server, 'todo:u5');
    expect(state.tally).toEqual({});
    expect(state.count).toBe(2);
    expect(await alice.undo()).toBeUndefined();
  });

  it('refuses hostile $undo input with documented codes and stores nothing', async () => {
    const server = await startServer({ docs: DOCS });
    await server.docs.mutate('todo:h', 'addItem', { id: 'i', text: 'x' });
    const before = await server.docs.get('todo:h');
    const bad: Array<[unknown, string]> = [
      [{ steps: [{ op: 'add', path: ['__proto__', 'polluted'], value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'add', path: ['tally', 'k'], value: { constructor: 1 } }] }, 'invalid_args'],
      [{ steps: [{ op: 'replace', path: [], expect: 0, value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'replace', path: ['count'], value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'move', path: ['count'], value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'add', path: Array.from({ length: 40 }, () => 'a'), value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'add', path: ['tally', 'x'.repeat(300)], value: 1 }] }, 'invalid_args'],
      [{ steps: [{ op: 'add', path: ['tally', -1], value: 1 }] }, 'invalid_args'],
      [
        { steps: Array.from({ length: UNDO_MAX_STEPS + 1 }, () => ({ op: 'remove', path: ['x'], expect: 1 })) },
        'invalid_args',
      ],
      [{ steps: [], extra: true }, 'invalid_args'],
      [{ steps: [{ op: 'replace', path: ['count'], expect: 0, value: 'not a number' }] }, 'schema_violation'],
      [
        { steps: [{ op: 'add', path: ['items', 1], value: { id: 'y', text: 'x'.repeat(30_000), by: 'm', at: 0 } }] },
        'doc_too_large',
      ],
    ];
    for (const [args, code] of bad) {
      await expect(
        server.docs.mutate('todo:h', '$undo', args),
        JSON.stringify(args).slice(0, 80),
      ).rejects.toMatchObject({ code });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await server.docs.get('todo:h')).toEqual(before);

    // A namespace without `undo: true` has no such mutator.
    await expect(server.docs.mutate('plain:h', '$undo', { steps: [] })).rejects.toMatchObject({
      code: 'unknown_mutator',
    });

    // A namespace's `allow` refuses the whole mutation when one step is not allowed.
    await server.docs.mutate('guarded:h', 'addItem', { id: 'g', text: 'x' });
    const guarded = await server.docs.get('guarded:h');
    await expect(
      server.docs.mutate('guarded:h', '$undo', {
        steps: [
          { op: 'remove', path: ['items', 0], expect: (guarded.state as TestState).items[0] },
          { op: 'replace', path: ['count'], expect: 0, value: 99 },
        ],
      }),
    ).rejects.toMatchObject({ code: 'mutation_failed' });
    expect(await server.docs.get('guarded:h')).toEqual(guarded);
    await server.docs.mutate('guarded:h', '$undo', {
      steps: [{ op: 'remove', path: ['items', 0], expect: (guarded.state as TestState).items[0] }],
    });
    expect(((await server.docs.get('guarded:h')).state as TestState).items).toEqual([]);

    // Over the wire, from a client: the id is used up, nothing is stored, the next id goes through.
    const ws = await rawSocket(server);
    ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('mallory') }));
    await ws.next((m) => m.id === 1);
    const mutate = (id: number, mutationId: number, name: string, args: unknown) =>
      ws.send(
        JSON.stringify({ type: 'doc.mutate', id, doc: 'todo:h', clientId: 'client-raw-undo', mutationId, name, args }),
      );
    mutate(2, 1, '$undo', { steps: [{ op: 'add', path: ['__proto__', 'x'], value: 1 }] });
    expect(await ws.next((m) => m.id === 2)).toMatchObject({ type: 'error', code: 'invalid_args' });
    mutate(3, 2, '$undo', { steps: [{ op: 'replace', path: ['count'], expect: 0, value: 'x' }] });
    expect(await ws.next((m) => m.id === 3)).toMatchObject({ type: 'error', code: 'schema_violation' });
    expect(await server.docs.get('todo:h')).toEqual(before);
    // A step whose check fails changes nothing.
    mutate(4, 3, '$undo', { steps: [{ op: 'replace', path: ['count'], expect: 41, value: 42 }] });
    expect(await ws.next((m) => m.id === 4)).toMatchObject({ type: 'reply' });
    expect((await server.docs.get('todo:h')).state).toEqual(before.state);
  });
});
