/**
 * The HTTP API an operator console reads: the channel list paged by name
 * (10,000 channels), one channel's detail, history read backwards, and the
 * documents' list, detail and ops, over real HTTP against an embedded server.
 */
import { describe, expect, it } from 'vitest';
import { testDocNamespace } from './docs-fixtures.js';
import { client, connectedRawSocket, type RawSocket, waitFor } from './helpers.js';
import { api, apiServer, code } from './http-api-helpers.js';

interface Entry {
  readonly channel: string;
  readonly subscribers: number;
  readonly present: number;
}

/** Subscribes a raw connection to `names`, 100 commands a frame (the most a frame takes); resolves once all are answered. */
async function subscribeAll(raw: RawSocket, names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 100) {
    const frame = names.slice(i, i + 100).map((channel, j) => ({ type: 'subscribe', id: 10 + i + j, channel }));
    raw.send(JSON.stringify(frame));
  }
  const answered = () => raw.messages.filter((m) => typeof m.id === 'number' && m.id >= 10).length;
  await waitFor(
    () => answered() === names.length,
    30_000,
    () => `${answered()} of ${names.length} answered`,
  );
  const refused = raw.messages.find((m) => m.type === 'error');
  if (refused) throw new Error(`a subscribe was refused: ${JSON.stringify(refused)}`);
}

/** The offsets of a history page. */
function offsetsOf(body: Record<string, unknown>): number[] {
  return (body.publications as Array<{ offset: number }>).map((p) => p.offset);
}

describe('HTTP API for an operator console: channels', () => {
  it('pages 10,000 channels by name: each exactly once, in order, never more than the page size', async () => {
    const server = await apiServer({ limits: { maxChannelsPerConnection: 5_000 } });
    const names = Array.from({ length: 10_000 }, (_, i) => `chat:c${String(i).padStart(5, '0')}`);
    // Two connections with 5,000 subscriptions each, and one more subscriber of the first channel.
    const a = await connectedRawSocket(server, 'alice');
    const b = await connectedRawSocket(server, 'bob');
    await Promise.all([subscribeAll(a, names.slice(0, 5_000)), subscribeAll(b, names.slice(5_000))]);
    await (await client(server, 'carol')).subscribe('chat:c00000').ready;

    const seen: Entry[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const query = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
      const r = await api(server, 'GET', `/v1/channels?prefix=chat:c&limit=1000${query}`);
      expect(r.status).toBe(200);
      const page = r.body.channels as Entry[];
      expect(page.length).toBeLessThanOrEqual(1000);
      seen.push(...page);
      after = r.body.next as string | undefined;
      if (after !== undefined) expect(after).toBe(page[page.length - 1]?.channel);
      pages++;
    } while (after !== undefined && pages < 20);
    expect(pages).toBe(10);
    expect(seen.map((e) => e.channel)).toEqual(names);
    expect(seen[0]).toEqual({ channel: 'chat:c00000', subscribers: 2, present: 0 });
    expect(seen.slice(1).every((e) => e.subscribers === 1)).toBe(true);

    // A cursor is a name: the page after it, whether or not it is itself listed.
    const mid = await api(server, 'GET', '/v1/channels?prefix=chat:c&after=chat:c04999x&limit=2');
    expect(mid.body).toEqual({
      channels: [
        { channel: 'chat:c05000', subscribers: 1, present: 0 },
        { channel: 'chat:c05001', subscribers: 1, present: 0 },
      ],
      next: 'chat:c05001',
    });
    const last = await api(server, 'GET', '/v1/channels?prefix=chat:c&after=chat:c09998');
    expect(last.body).toEqual({ channels: [{ channel: 'chat:c09999', subscribers: 1, present: 0 }] });
    const started = Date.now();
    const first = await api(server, 'GET', '/v1/channels?limit=100');
    expect((first.body.channels as Entry[]).length).toBe(100);
    // Loose: the bench measures pages; this only catches work that grows without bound.
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 30_000);

  it('GET /v1/channels/{channel}: namespace options, position and counts', async () => {
    const server = await apiServer({
      namespaces: {
        small: { history: { size: 3, ttlMs: 60_000 }, allowPublish: 'subscribers' },
        room: { presence: { maxMembers: 50 } },
      },
    });
    const a = await client(server, 'alice');
    await a.subscribe('small:x').ready;
    for (let i = 1; i <= 5; i++) await server.publish('small:x', { i });
    await a.presence('room:lobby').enter({ here: true });

    const r = await api(server, 'GET', '/v1/channels/small:x');
    expect(r).toEqual({
      status: 200,
      body: {
        channel: 'small:x',
        namespace: {
          name: 'small',
          history: { size: 3, ttlMs: 60_000 },
          allowPublish: 'subscribers',
          recover: true,
          recoverWindowMs: 120_000,
          presence: false,
          dataSchema: false,
          presenceStateSchema: false,
          publicationWebhooks: 0,
        },
        epoch: expect.any(String),
        offset: 5,
        minOffset: 3,
        subscribers: 1,
        present: 0,
      },
    });
    const room = await api(server, 'GET', '/v1/channels/room%3Alobby');
    expect(room.body).toMatchObject({
      namespace: { name: 'room', presence: true, presenceMaxMembers: 50 },
      offset: 0,
      minOffset: 0,
      subscribers: 0,
      present: 1,
    });
    const unknown = await api(server, 'GET', '/v1/channels/nope:x');
    expect([unknown.status, code(unknown)]).toEqual([404, 'unknown_namespace']);
    const bad = await api(server, 'GET', `/v1/channels/small:${'x'.repeat(300)}`);
    expect([bad.status, code(bad)]).toEqual([400, 'invalid_request']);
  });

  it('reads history backwards with `before`, each page in offset order, and forwards again', async () => {
    const server = await apiServer();
    for (let i = 1; i <= 7; i++) await server.publish('chat:h', { i });
    const newest = await api(server, 'GET', '/v1/channels/chat:h/history?before=999999999999999&limit=3');
    expect(offsetsOf(newest.body)).toEqual([5, 6, 7]);
    expect(newest.body).toMatchObject({ offset: 7, minOffset: 1, prev: 5 });
    expect(newest.body.next).toBeUndefined();
    const seen = offsetsOf(newest.body);
    let prev = newest.body.prev as number | undefined;
    while (prev !== undefined) {
      const page = await api(server, 'GET', `/v1/channels/chat:h/history?before=${prev}&limit=3`);
      seen.unshift(...offsetsOf(page.body));
      expect(page.body.next).toBe(offsetsOf(page.body).at(-1));
      prev = page.body.prev as number | undefined;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // A forward page tells where the older ones are, too.
    const forward = await api(server, 'GET', '/v1/channels/chat:h/history?since=4&limit=2');
    expect(forward.body).toMatchObject({ next: 6, prev: 5 });

    const both = await api(server, 'GET', '/v1/channels/chat:h/history?since=1&before=5');
    expect([both.status, code(both)]).toEqual([400, 'invalid_request']);
    expect((both.body.error as { details: unknown }).details).toEqual({ path: 'before', in: 'query' });
    for (const q of ['before=-1', 'before=abc', 'before=1e3', 'before=1234567890123456', 'limit=1001', 'limit=0']) {
      const r = await api(server, 'GET', `/v1/channels/chat:h/history?${q}`);
      expect([q, r.status, code(r)]).toEqual([q, 400, 'invalid_request']);
    }
  });

  it('pages presence members by user id', async () => {
    const server = await apiServer();
    for (const user of ['carol', 'alice', 'bob']) await (await client(server, user)).presence('room:p').enter({ user });
    const first = await api(server, 'GET', '/v1/channels/room:p/presence?limit=2');
    expect((first.body.members as Array<{ user: string }>).map((m) => m.user)).toEqual(['alice', 'bob']);
    expect(first.body.next).toBe('bob');
    const rest = await api(server, 'GET', '/v1/channels/room:p/presence?limit=2&after=bob');
    expect((rest.body.members as Array<{ user: string }>).map((m) => m.user)).toEqual(['carol']);
    expect(rest.body.next).toBeUndefined();
    const all = await api(server, 'GET', '/v1/channels/room:p/presence');
    expect((all.body.members as unknown[]).length).toBe(3);
    for (const q of ['limit=0', 'limit=10001', `after=${'u'.repeat(201)}`, 'before=1']) {
      const r = await api(server, 'GET', `/v1/channels/room:p/presence?${q}`);
      expect([q.slice(0, 20), r.status, code(r)]).toEqual([q.slice(0, 20), 400, 'invalid_request']);
    }
  });

  it('refuses huge pages, over-long prefixes and cursors with invalid_request', async () => {
    const server = await apiServer();
    const long = 'x'.repeat(300);
    for (const q of [
      'limit=10001',
      'limit=0',
      'limit=99999999999999999',
      `prefix=${long}`,
      `after=${long}`,
      'page=2',
    ]) {
      const r = await api(server, 'GET', `/v1/channels?${q}`);
      expect([q.slice(0, 20), r.status, code(r)]).toEqual([q.slice(0, 20), 400, 'invalid_request']);
    }
  });
});

/** A server with document namespaces: `todo` at schema version 2, `note` with a short op log, `big` up to 8 MiB. */
function docsServer() {
  return apiServer({
    docs: {
      todo: testDocNamespace({ schemaVersion: 2, migrations: { 2: (s) => s } }),
      note: testDocNamespace({ opLogRetention: 5, snapshotEvery: 5 }),
      big: testDocNamespace({ maxBytes: 8 * 1024 * 1024 }),
    },
  });
}

interface ListedDoc {
  readonly doc: string;
  readonly version: number;
  readonly updatedAt: number;
}

describe('HTTP API for an operator console: documents', () => {
  it('GET /v1/docs lists stored documents by name, per namespace and prefix, paged', async () => {
    const server = await docsServer();
    const names = ['todo:b', 'todo:a/2', 'todo:a/1', 'note:x', 'todo:c'];
    for (const name of names) {
      await api(server, 'POST', `/v1/docs/${encodeURIComponent(name)}/mutate`, { name: 'increment' });
    }
    await api(server, 'POST', '/v1/docs/todo:c/mutate', { name: 'increment' });
    // Read but never written: not in storage, not listed.
    await api(server, 'GET', '/v1/docs/todo:unwritten');

    const all = await api(server, 'GET', '/v1/docs');
    expect((all.body.docs as ListedDoc[]).map((d) => d.doc)).toEqual([
      'note:x',
      'todo:a/1',
      'todo:a/2',
      'todo:b',
      'todo:c',
    ]);
    const c = (all.body.docs as ListedDoc[])[4];
    expect(c).toEqual({ doc: 'todo:c', version: 2, updatedAt: expect.any(Number) });
    expect(Math.abs((c?.updatedAt ?? 0) - Date.now())).toBeLessThan(60_000);

    const seen: string[] = [];
    let after: string | undefined;
    do {
      const q = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
      const page = await api(server, 'GET', `/v1/docs?namespace=todo&limit=2${q}`);
      expect((page.body.docs as ListedDoc[]).length).toBeLessThanOrEqual(2);
      seen.push(...(page.body.docs as ListedDoc[]).map((d) => d.doc));
      after = page.body.next as string | undefined;
    } while (after !== undefined && seen.length < 10);
    expect(seen).toEqual(['todo:a/1', 'todo:a/2', 'todo:b', 'todo:c']);

    const prefixed = await api(server, 'GET', '/v1/docs?namespace=todo&prefix=todo:a/');
    expect((prefixed.body.docs as ListedDoc[]).map((d) => d.doc)).toEqual(['todo:a/1', 'todo:a/2']);
    const disjoint = await api(server, 'GET', '/v1/docs?namespace=todo&prefix=note:');
    expect(disjoint.body).toEqual({ docs: [] });
    const unknown = await api(server, 'GET', '/v1/docs?namespace=nope');
    expect([unknown.status, code(unknown)]).toEqual([404, 'unknown_namespace']);
    const long = 'x'.repeat(300);
    for (const q of ['limit=1001', 'limit=0', `prefix=${long}`, `after=${long}`, `namespace=${long}`, 'namespace=']) {
      const r = await api(server, 'GET', `/v1/docs?${q}`);
      expect([q.slice(0, 20), r.status, code(r)]).toEqual([q.slice(0, 20), 400, 'invalid_request']);
    }
  });

  it('GET /v1/docs/{name} shows the schema version and the clients the store keeps ids for', async () => {
    const server = await docsServer();
    await api(server, 'POST', '/v1/docs/todo:x/mutate', { name: 'increment', clientId: 'job-aaaa', mutationId: 1 });
    await api(server, 'POST', '/v1/docs/todo:x/mutate', { name: 'increment', clientId: 'job-aaaa', mutationId: 2 });
    await api(server, 'POST', '/v1/docs/todo:x/mutate', { name: 'increment', clientId: 'job-bbbb', mutationId: 1 });
    await api(server, 'POST', '/v1/docs/todo:x/mutate', { name: 'increment' });
    const r = await api(server, 'GET', '/v1/docs/todo:x');
    expect(r.body).toEqual({
      doc: 'todo:x',
      version: 4,
      state: { count: 4, items: [], tally: {} },
      schemaVersion: 2,
      clients: 2,
    });
    const fresh = await api(server, 'GET', '/v1/docs/note:new');
    expect(fresh.body).toMatchObject({ version: 0, schemaVersion: 1, clients: 0 });
  });

  it('GET /v1/docs/{name}/ops pages the op log backwards, newest first', async () => {
    const server = await docsServer();
    for (let i = 1; i <= 7; i++) {
      await api(server, 'POST', '/v1/docs/todo:ops/mutate', {
        name: 'addItem',
        args: { id: `i${i}`, text: `item ${i}` },
        userId: i === 7 ? 'ann' : 'bot',
        clientId: 'importer-1',
        mutationId: i,
      });
    }
    const first = await api(server, 'GET', '/v1/docs/todo:ops/ops?limit=3');
    const ops = first.body.ops as Array<Record<string, unknown>>;
    expect(ops.map((o) => o.version)).toEqual([7, 6, 5]);
    expect(ops[0]).toEqual({
      version: 7,
      ts: expect.any(Number),
      userId: 'ann',
      clientId: 'importer-1',
      mutationId: 7,
      schemaVersion: 2,
      mutator: 'addItem',
      args: { id: 'i7', text: 'item 7' },
      argsBytes: JSON.stringify({ id: 'i7', text: 'item 7' }).length,
      patches: [expect.objectContaining({ path: ['items', 6] })],
    });
    expect(first.body.prev).toBe(5);
    const versions = ops.map((o) => o.version);
    let prev = first.body.prev as number | undefined;
    while (prev !== undefined) {
      const page = await api(server, 'GET', `/v1/docs/todo:ops/ops?before=${prev}&limit=3`);
      versions.push(...(page.body.ops as Array<{ version: number }>).map((o) => o.version));
      prev = page.body.prev as number | undefined;
    }
    expect(versions).toEqual([7, 6, 5, 4, 3, 2, 1]);

    // The log keeps what catch-up needs: `note` compacts behind its snapshots.
    for (let i = 1; i <= 12; i++) await api(server, 'POST', '/v1/docs/note:n/mutate', { name: 'increment' });
    const kept = await api(server, 'GET', '/v1/docs/note:n/ops?limit=100');
    const keptVersions = (kept.body.ops as Array<{ version: number }>).map((o) => o.version);
    expect(keptVersions[0]).toBe(12);
    expect(keptVersions.length).toBeLessThan(12);
    expect(kept.body.prev).toBeUndefined();

    const none = await api(server, 'GET', '/v1/docs/todo:none/ops');
    expect(none.body).toEqual({ doc: 'todo:none', ops: [] });
    for (const [path, status, errorCode] of [
      ['/v1/docs/nope:x/ops', 404, 'unknown_namespace'],
      ['/v1/docs/todo:x/ops?limit=101', 400, 'invalid_request'],
      ['/v1/docs/todo:x/ops?before=-1', 400, 'invalid_request'],
      ['/v1/docs/todo:x/ops?since=1', 400, 'invalid_request'],
      [`/v1/docs/todo:${'x'.repeat(300)}/ops`, 400, 'invalid_request'],
    ] as const) {
      const r = await api(server, 'GET', path);
      expect([path.slice(0, 40), r.status, code(r)]).toEqual([path.slice(0, 40), status, errorCode]);
    }
  });

  it('cuts a page of ops once its patches pass 1 MiB, keeping at least one op', async () => {
    const server = await docsServer();
    // Each op's patch carries a 300 KB key: four of them are more than a page holds.
    for (let i = 1; i <= 4; i++) {
      const r = await api(server, 'POST', '/v1/docs/big:a/mutate', {
        name: 'tally',
        args: { key: `${i}`.repeat(300_000) },
      });
      expect(r.status).toBe(200);
    }
    const page = await api(server, 'GET', '/v1/docs/big:a/ops?limit=100');
    expect((page.body.ops as Array<{ version: number }>).map((o) => o.version)).toEqual([4, 3, 2]);
    // Arguments over 4 KiB are kept as their size only.
    const newest = (page.body.ops as Array<Record<string, unknown>>)[0];
    expect([newest?.mutator, newest?.args, newest?.argsBytes]).toEqual([
      'tally',
      undefined,
      JSON.stringify({ key: '4'.repeat(300_000) }).length,
    ]);
    expect(page.body.prev).toBe(2);
    const rest = await api(server, 'GET', '/v1/docs/big:a/ops?before=2&limit=100');
    expect((rest.body.ops as Array<{ version: number }>).map((o) => o.version)).toEqual([1]);
    expect(rest.body.prev).toBeUndefined();
  });
});
