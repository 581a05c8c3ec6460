import type { DocReplica } from '@syncline/client';
import { PostgresDocStore } from '@syncline/postgres';
import { defineMutators, type Transaction } from '@syncline/protocol';
import { uniqueName } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { type TestState, testDocNamespace, testMutators } from './docs-fixtures.js';
import { client, connectedRawSocket, defer, startServer, tempDir, waitFor, waitForValue } from './helpers.js';

type Replica = DocReplica<TestState, typeof testMutators>;

const MAX_BYTES = 2_000;

const sizeMutators = defineMutators({
  ...testMutators,
  /** Replaces every item by one of `size` characters: big ops, a small document. */
  replaceItems(tx: Transaction<TestState>, args: { k: number; size: number }) {
    tx.set('items', [{ id: `r${args.k}`, text: 'x'.repeat(args.size), by: 'server', at: args.k }]);
  },
  /** Appends `n` items of `size` characters (server-side filling). */
  fill(tx: Transaction<TestState>, args: { from: number; n: number; size: number }) {
    for (let i = 0; i < args.n; i++) {
      tx.draft.items.push({ id: `f${args.from + i}`, text: 'é'.repeat(args.size), by: 'server', at: i });
    }
  },
});

function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v), 'utf8');
}

async function fillUntilRefused(mutate: (i: number) => Promise<unknown>): Promise<{ i: number; err: unknown }> {
  for (let i = 0; i < 1_000; i++) {
    try {
      await mutate(i);
    } catch (err) {
      return { i, err };
    }
  }
  throw new Error('never refused');
}

describe('document size limit (maxBytes)', () => {
  it('refuses a mutation that would grow a document past maxBytes; the SDK rolls it back; smaller ones go on', async () => {
    const server = await startServer({ docs: { t: testDocNamespace({ maxBytes: MAX_BYTES }) } });
    const c = await client(server, 'alice');
    const r = c.doc('t:grow', { mutators: testMutators }) as Replica;
    await r.ready;
    const { i, err } = await fillUntilRefused((k) => r.mutate.addItem({ id: `i${k}`, text: 'x'.repeat(150) }));
    expect(err).toMatchObject({ code: 'doc_too_large', details: { limit: MAX_BYTES } });
    const stored = await server.docs.get('t:grow');
    expect(stored.version).toBe(i);
    expect(jsonBytes(stored.state)).toBeLessThanOrEqual(MAX_BYTES);
    const bytes = (err as { details: { bytes: number } }).details.bytes;
    expect(bytes).toBeGreaterThan(MAX_BYTES);
    // The refused size is the size the state would have had (within a few bytes).
    expect(
      Math.abs(
        bytes -
          (jsonBytes(stored.state) + jsonBytes({ id: `i${i}`, text: 'x'.repeat(150), by: 'alice', at: 0 }) + 1 + 12),
      ),
    ).toBeLessThan(16);
    // Rolled back on the client; a mutation that fits still goes through (the refused id was used up).
    await r.mutate.increment({});
    await waitForValue(
      () => ({ status: r.status, version: r.version }),
      { status: 'synced', version: i + 1 },
      5_000,
      'replica after the refusal',
    );
    expect(r.current).toEqual((await server.docs.get('t:grow')).state);
    expect(r.current?.items).toHaveLength(i);
  });

  it('uses up the refused mutation id (a resend is a duplicate) and stores nothing', async () => {
    const server = await startServer({
      docs: { t: testDocNamespace({ mutators: sizeMutators, maxBytes: MAX_BYTES }) },
    });
    const raw = await connectedRawSocket(server, 'alice');
    const big = {
      type: 'doc.mutate',
      doc: 't:raw',
      clientId: 'size-client',
      name: 'fill',
      args: { from: 0, n: 1, size: 3_000 },
    };
    raw.send(JSON.stringify({ ...big, id: 5, mutationId: 1 }));
    const refused = await raw.next((m) => m.id === 5);
    expect(refused).toMatchObject({ type: 'error', code: 'doc_too_large', details: { limit: MAX_BYTES } });
    // 'é' is two bytes of UTF-8: the limit counts bytes, not characters.
    expect((refused.details as { bytes: number }).bytes).toBeGreaterThan(6_000);
    raw.send(JSON.stringify({ ...big, id: 6, mutationId: 1 }));
    expect(await raw.next((m) => m.id === 6)).toMatchObject({ type: 'reply', result: { duplicate: true } });
    expect(await server.docs.get('t:raw')).toMatchObject({ version: 0, state: { items: [] } });
  });

  it('applies to HTTP API mutations', async () => {
    const server = await startServer({ docs: { t: testDocNamespace({ maxBytes: MAX_BYTES }) }, apiKey: 'k-123456789' });
    const headers = { authorization: 'Bearer k-123456789', 'content-type': 'application/json' };
    const post = (k: number) =>
      fetch(`${server.url}/v1/docs/t:http/mutate`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'addItem', args: { id: `h${k}`, text: 'y'.repeat(150) } }),
      });
    let res = await post(0);
    let k = 0;
    while (res.status === 200 && k < 100) res = await post(++k);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'doc_too_large', details: { limit: MAX_BYTES } } });
    expect(jsonBytes((await server.docs.get('t:http')).state)).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('a document stored above a lowered limit takes mutations that do not grow it', async () => {
    const database = `${tempDir()}/docs.db`;
    const first = await startServer({ database, docs: { t: testDocNamespace({ maxBytes: 10_000 }) } });
    for (let k = 0; k < 10; k++) await first.docs.mutate('t:old', 'addItem', { id: `o${k}`, text: 'z'.repeat(150) });
    await first.close();
    const server = await startServer({ database, docs: { t: testDocNamespace({ maxBytes: MAX_BYTES }) } });
    expect(jsonBytes((await server.docs.get('t:old')).state)).toBeGreaterThan(MAX_BYTES);
    await expect(server.docs.mutate('t:old', 'increment', {})).resolves.toMatchObject({ version: 11 });
    await expect(server.docs.mutate('t:old', 'addItem', { id: 'more', text: 'z' })).rejects.toMatchObject({
      code: 'doc_too_large',
    });
  });

  it.runIf(postgresService.available)('holds on the PostgreSQL document store', async () => {
    const store = await PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 2 });
    defer(() => store.close());
    const server = await startServer({ docs: { t: testDocNamespace({ maxBytes: MAX_BYTES }) }, docStore: store });
    const doc = `t:${uniqueName('size')}`;
    const { i, err } = await fillUntilRefused((k) =>
      server.docs.mutate(doc, 'addItem', { id: `p${k}`, text: 'x'.repeat(150) }),
    );
    expect(err).toMatchObject({ code: 'doc_too_large', details: { limit: MAX_BYTES } });
    expect((await server.docs.get(doc)).version).toBe(i);
  });
});

describe('large snapshots', () => {
  it('reach a new subscriber in pieces when larger than the send queue, without closing it as a slow consumer', async () => {
    const maxQueueBytes = 64 * 1024;
    const server = await startServer({
      docs: { t: testDocNamespace({ mutators: sizeMutators, maxBytes: 1024 * 1024 }) },
      maxQueueBytes,
      // Filling 200 items a mutation is setup, not the subject: give it time on a busy machine.
      limits: { mutatorTimeoutMs: 5_000 },
    });
    for (let k = 0; k < 6; k++) await server.docs.mutate('t:big', 'fill', { from: k * 200, n: 200, size: 400 });
    const stored = await server.docs.get('t:big');
    expect(jsonBytes(stored.state)).toBeGreaterThan(8 * maxQueueBytes);

    const c = await client(server, 'alice');
    const states: string[] = [];
    c.on('state', (e) => states.push(e.state));
    const r = c.doc('t:big', { mutators: sizeMutators });
    await waitFor(
      () => r.status === 'synced',
      10_000,
      () => `wanted the replica synced, saw ${r.status} (states: ${states.join(' → ')})`,
    );
    expect(r.current).toEqual(stored.state);
    // Patches committed meanwhile apply on top; the connection was never dropped.
    await server.docs.mutate('t:big', 'increment', {});
    await r.mutate.tally({ key: 'k' });
    await waitForValue(
      () => ({ status: r.status, count: (r.current as TestState | undefined)?.count }),
      { status: 'synced', count: 1 },
      5_000,
      'replica with the patches after',
    );
    expect(r.current).toEqual((await server.docs.get('t:big')).state);
    expect(states).not.toContain('disconnected');
    expect(states.filter((s) => s === 'connected')).toHaveLength(1);
  });

  it('a client far behind gets the current state instead of more ops than its queue holds', async () => {
    const maxQueueBytes = 64 * 1024;
    const server = await startServer({
      docs: { t: testDocNamespace({ mutators: sizeMutators, maxBytes: 1024 * 1024 }) },
      maxQueueBytes,
    });
    await server.docs.mutate('t:behind', 'increment', {});
    // 100 ops of ~4 KB each (400 KB in all) over a document that stays ~4 KB.
    for (let k = 0; k < 100; k++) await server.docs.mutate('t:behind', 'replaceItems', { k, size: 4_000 });
    const raw = await connectedRawSocket(server, 'alice');
    raw.send(JSON.stringify({ type: 'doc.subscribe', id: 7, doc: 't:behind', version: 1, chunks: true }));
    const reply = await raw.next((m) => m.id === 7, 5_000);
    expect(reply.type).toBe('reply');
    const result = reply.result as { version: number; snapshot?: TestState; ops?: unknown[] };
    expect({ version: result.version, ops: result.ops, items: result.snapshot?.items.map((i) => i.id) }).toEqual({
      version: 101,
      ops: undefined,
      items: ['r99'],
    });
    expect(raw.closed).toBeUndefined();
    // A small gap is still answered with ops.
    const near = await connectedRawSocket(server, 'bob');
    near.send(JSON.stringify({ type: 'doc.subscribe', id: 8, doc: 't:behind', version: 100, chunks: true }));
    const small = (await near.next((m) => m.id === 8)).result as {
      ops?: Array<{ version: number }>;
      snapshot?: unknown;
    };
    expect({ ops: small.ops?.map((o) => o.version), snapshot: small.snapshot }).toEqual({
      ops: [101],
      snapshot: undefined,
    });
  });
});
