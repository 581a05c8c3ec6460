import type { DocReplica } from '@syncline/client';
import { SynclineError } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, rawSocket, startServer, token, waitForValue, waitState } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

const DOCS = { todo: testDocNamespace(), short: testDocNamespace({ snapshotEvery: 10, opLogRetention: 10 }) };

async function settled(
  replicas: Replica[],
  server: { docs: { get(d: string): Promise<{ version: number; state: unknown }> } },
  doc: string,
) {
  const target = await server.docs.get(doc);
  await waitForValue(
    () => replicas.map((r) => `${r.status} v${r.version} pending=${r.pending.length}`),
    replicas.map(() => `synced v${target.version} pending=0`),
    15_000,
    'replicas',
  );
  for (const r of replicas) expect(r.current).toEqual(target.state);
  return target;
}

async function concurrent(n: number) {
  const server = await startServer({ docs: DOCS });
  const clients = await Promise.all(Array.from({ length: n }, (_, i) => client(server, `user${i}`)));
  const replicas = clients.map((c) => c.doc('todo:list', { mutators: testMutators }) as Replica);
  await Promise.all(replicas.map((r) => r.ready));
  await waitForValue(
    () => replicas.map((r) => r.status),
    replicas.map(() => 'synced'),
    10_000,
    'replica statuses',
  );
  const confirmations: Promise<unknown>[] = [];
  replicas.forEach((r, i) => {
    for (let k = 0; k < 5; k++) {
      const before = r.current?.items.length ?? 0;
      confirmations.push(r.mutate.addItem({ id: `c${i}-${k}`, text: `from ${i}` }));
      confirmations.push(r.mutate.increment({}));
      // Visible at once, before the server confirms.
      expect(r.current?.items.length).toBe(before + 1);
      expect(r.current?.items.at(-1)?.id).toBe(`c${i}-${k}`);
    }
  });
  await Promise.all(confirmations);
  const final = await settled(replicas, server, 'todo:list');
  const state = final.state as TestState;
  expect(state.count).toBe(n * 5);
  expect(new Set(state.items.map((x) => x.id)).size).toBe(n * 5);
  expect(state.items.find((x) => x.id === 'c0-0')?.by).toBe('user0');
}

describe('documents', () => {
  it('two clients mutate concurrently and converge', () => concurrent(2));

  it('ten clients mutate concurrently and converge', () => concurrent(10));

  it('rolls back a mutation the server rejects; the error reaches the caller; later ones go through', async () => {
    const server = await startServer({ docs: DOCS });
    const c = await client(server, 'alice');
    const r = c.doc('todo:a', { mutators: testMutators }) as Replica;
    await r.ready;
    const ok1 = r.mutate.increment({});
    const bad = r.mutate.serverRejects(null);
    expect(r.current?.count).toBe(1001);
    const ok2 = r.mutate.increment({ by: 2 });
    await expect(bad).rejects.toMatchObject({ code: 'mutation_failed' });
    await ok1;
    await ok2;
    await settled([r], server, 'todo:a');
    expect(r.current?.count).toBe(3);
  });

  it('rejects schema violations and unknown mutators with documented errors and changes nothing', async () => {
    const server = await startServer({ docs: DOCS });
    await server.docs.mutate('todo:s', 'increment', {});
    const before = await server.docs.get('todo:s');
    await expect(server.docs.mutate('todo:s', 'setCount', { value: 'x' })).rejects.toMatchObject({
      code: 'schema_violation',
    });
    await expect(server.docs.mutate('todo:s', 'nope', {})).rejects.toMatchObject({ code: 'unknown_mutator' });
    await expect(server.docs.mutate('todo:s', 'addItem', { id: 1 })).rejects.toMatchObject({ code: 'invalid_args' });
    await expect(server.docs.mutate('nons:s', 'increment', {})).rejects.toMatchObject({ code: 'unknown_namespace' });
    expect(await server.docs.get('todo:s')).toEqual(before);

    // Over the wire: the id is used up, the document is unchanged, the next id goes through.
    const ws = await rawSocket(server);
    ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('bob') }));
    await ws.next((m) => m.id === 1);
    const mutate = (id: number, mutationId: number, name: string, args: unknown) =>
      ws.send(
        JSON.stringify({ type: 'doc.mutate', id, doc: 'todo:s', clientId: 'client-raw-1', mutationId, name, args }),
      );
    mutate(2, 1, 'nope', {});
    expect(await ws.next((m) => m.id === 2)).toMatchObject({ type: 'error', code: 'unknown_mutator' });
    mutate(3, 2, 'setCount', { value: [] });
    expect(await ws.next((m) => m.id === 3)).toMatchObject({ type: 'error', code: 'schema_violation' });
    expect(await server.docs.get('todo:s')).toEqual(before);
    mutate(4, 3, 'increment', {});
    expect(await ws.next((m) => m.id === 4)).toMatchObject({ type: 'reply', result: { version: before.version + 1 } });
  });

  it('applies a resent mutation id once, acks it again, and refuses ids that skip ahead', async () => {
    const server = await startServer({ docs: DOCS });
    const t = await token('bob');
    const send = async (mutationId: number) => {
      const ws = await rawSocket(server);
      ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: t }));
      await ws.next((m) => m.id === 1);
      ws.send(
        JSON.stringify({
          type: 'doc.mutate',
          id: 2,
          doc: 'todo:r',
          clientId: 'client-raw-2',
          mutationId,
          name: 'increment',
          args: {},
        }),
      );
      return ws.next((m) => m.id === 2);
    };
    expect(await send(1)).toMatchObject({ type: 'reply', result: { version: 1 } });
    expect(await send(1)).toMatchObject({ type: 'reply', result: { version: 1, duplicate: true } });
    expect(await send(3)).toMatchObject({ type: 'error', code: 'mutation_out_of_order', details: { expected: 2 } });
    expect(await send(2)).toMatchObject({ type: 'reply', result: { version: 2 } });
    expect(((await server.docs.get('todo:r')).state as TestState).count).toBe(2);
  });

  it('resends pending mutations with their ids after a reconnect and applies nothing twice', async () => {
    const server = await startServer({ docs: DOCS });
    const c = await client(server, 'alice');
    const r = c.doc('todo:re', { mutators: testMutators }) as Replica;
    await r.ready;
    await waitForValue(() => r.status, 'synced', 5_000, 'replica status');
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      all.push(r.mutate.increment({}));
      if (i % 5 === 2) server.disconnectUser('alice');
    }
    await Promise.all(all);
    const final = await settled([r], server, 'todo:re');
    expect((final.state as TestState).count).toBe(20);
  });

  it('catches up through ops after 100 mutations by others, and through a snapshot past the retention', async () => {
    const server = await startServer({ docs: DOCS });
    const c = await client(server, 'alice');
    const r = c.doc('todo:o', { mutators: testMutators }) as Replica;
    const s = c.doc('short:o', { mutators: testMutators }) as Replica;
    await Promise.all([r.ready, s.ready]);
    await waitForValue(() => [r.status, s.status], ['synced', 'synced'], 5_000, 'replica statuses');
    c.disconnect();
    await waitForValue(() => r.status, 'offline', 5_000, 'replica status');
    for (let i = 0; i < 100; i++) {
      await server.docs.mutate('todo:o', 'increment', {});
      await server.docs.mutate('short:o', 'increment', {});
    }
    // What the server answers a subscriber at version 0 of each.
    const ws = await rawSocket(server);
    ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('bob') }));
    await ws.next((m) => m.id === 1);
    ws.send(JSON.stringify({ type: 'doc.subscribe', id: 2, doc: 'todo:o', version: 0 }));
    ws.send(JSON.stringify({ type: 'doc.subscribe', id: 3, doc: 'short:o', version: 0 }));
    const opsReply = (await ws.next((m) => m.id === 2)).result as { ops?: unknown[]; snapshot?: unknown };
    const snapReply = (await ws.next((m) => m.id === 3)).result as { ops?: unknown[]; snapshot?: TestState };
    expect(opsReply.ops).toHaveLength(100);
    expect(opsReply.snapshot).toBeUndefined();
    expect(snapReply.ops).toBeUndefined();
    expect(snapReply.snapshot?.count).toBe(100);

    c.connect();
    await waitState(c, 'connected');
    await settled([r], server, 'todo:o');
    await settled([s], server, 'short:o');
    expect(r.current?.count).toBe(100);
    expect(s.current?.count).toBe(100);
  });

  it('serves documents over the HTTP API and broadcasts HTTP mutations', async () => {
    const server = await startServer({ docs: DOCS, apiKey: 'k-123456789' });
    const c = await client(server, 'alice');
    const r = c.doc('todo:h', { mutators: testMutators }) as Replica;
    await r.ready;
    const auth = { authorization: 'Bearer k-123456789', 'content-type': 'application/json' };
    const post = (body: unknown, headers: Record<string, string> = auth) =>
      fetch(`${server.url}/v1/docs/todo:h/mutate`, { method: 'POST', headers, body: JSON.stringify(body) });
    const res = await post({ name: 'addItem', args: { id: 'h1', text: 'from backend' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ doc: 'todo:h', version: 1 });
    await waitForValue(() => r.current?.items.length, 1, 5_000, 'item count');
    expect(r.current?.items[0]).toMatchObject({ id: 'h1', by: 'server' });

    const dupBody = { name: 'increment', args: {}, clientId: 'backend-job-1', mutationId: 1 };
    expect(await (await post(dupBody)).json()).toEqual({ doc: 'todo:h', version: 2 });
    expect(await (await post(dupBody)).json()).toEqual({ doc: 'todo:h', version: 2, duplicate: true });

    const bad = await post({ name: 'setCount', args: { value: 'x' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('schema_violation');
    const errorOf = async (res: Response) => {
      const { error } = (await res.json()) as { error: { code: string; details?: { path?: string } } };
      return [res.status, error.code, error.details?.path];
    };
    expect(await errorOf(await post({ args: {} }))).toEqual([400, 'invalid_request', 'name']);
    expect(await errorOf(await post({ name: 'increment', clientId: 'backend-job-2' }))).toEqual([
      400,
      'invalid_request',
      'mutationId',
    ]);
    expect(await errorOf(await post({ name: 'increment', userId: 7 }))).toEqual([400, 'invalid_request', 'userId']);
    expect((await post({ name: 'increment' }, { 'content-type': 'application/json' })).status).toBe(401);

    const get = await fetch(`${server.url}/v1/docs/todo:h`, { headers: auth });
    const body = (await get.json()) as { version: number; state: TestState };
    expect(body.version).toBe(2);
    expect(body.state.count).toBe(1);
    expect((await fetch(`${server.url}/v1/docs/todo:h`)).status).toBe(401);
    await settled([r], server, 'todo:h');
  });

  it('refuses to subscribe or mutate without the read/mutate capability', async () => {
    const server = await startServer({ docs: DOCS });
    const ws = await rawSocket(server);
    const t = await token('eve', [{ match: 'chat:*', allow: ['*'] }]);
    ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: t }));
    await ws.next((m) => m.id === 1);
    ws.send(JSON.stringify({ type: 'doc.subscribe', id: 2, doc: 'todo:x' }));
    ws.send(
      JSON.stringify({
        type: 'doc.mutate',
        id: 3,
        doc: 'todo:x',
        clientId: 'client-eve-1',
        mutationId: 1,
        name: 'increment',
        args: {},
      }),
    );
    expect(await ws.next((m) => m.id === 2)).toMatchObject({ code: 'forbidden' });
    expect(await ws.next((m) => m.id === 3)).toMatchObject({ code: 'forbidden' });
    expect((await server.docs.get('todo:x')).version).toBe(0);
    expect(SynclineError).toBeDefined();
  });
});
