/**
 * The HTTP API an operator console reads: the channel list paged by name
 * (10,000 channels), one channel's detail, history read backwards, and the
 * documents' list, detail and ops, over real HTTP against an embedded server.
 */
import { describe, expect, it } from 'vitest';
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
