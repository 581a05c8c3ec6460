import type { ReceivedPublication, StateChange, UserMessageEvent } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { client, describeValue, waitFor, waitForValue, waitState } from './helpers.js';
import { API_KEY, api, apiServer, code } from './http-api-helpers.js';

describe('HTTP API routes', () => {
  it('POST /v1/publish delivers to subscribers and dedupes by key', async () => {
    const server = await apiServer();
    const c = await client(server, 'alice');
    const got: ReceivedPublication[] = [];
    await c.subscribe('news:today', { onPublication: (p) => got.push(p) }).ready;
    const r1 = await api(server, 'POST', '/v1/publish', { channel: 'news:today', data: { n: 1 }, key: 'k1' });
    expect(r1).toEqual({
      status: 200,
      body: { channel: 'news:today', offset: 1, epoch: expect.any(String), duplicate: false },
    });
    const again = await api(server, 'POST', '/v1/publish', { channel: 'news:today', data: { n: 1 }, key: 'k1' });
    expect(again.body).toMatchObject({ offset: 1, duplicate: true });
    await waitForValue(() => got.map((p) => p.offset), [1], 5_000, 'offsets');
    expect(got[0]).toMatchObject({ offset: 1, data: { n: 1 } });
    expect(got[0]?.user).toBeUndefined();
  });

  it('POST /v1/publish/batch publishes in order and validates everything first', async () => {
    const server = await apiServer();
    const r = await api(server, 'POST', '/v1/publish/batch', {
      publications: [
        { channel: 'chat:a', data: 1 },
        { channel: 'chat:a', data: 2 },
        { channel: 'chat:b', data: 3, key: 'x' },
      ],
    });
    expect(r.status).toBe(200);
    expect((r.body.results as Array<{ channel: string; offset: number }>).map((x) => [x.channel, x.offset])).toEqual([
      ['chat:a', 1],
      ['chat:a', 2],
      ['chat:b', 1],
    ]);
    const bad = await api(server, 'POST', '/v1/publish/batch', {
      publications: [
        { channel: 'chat:a', data: 4 },
        { channel: 'nope:a', data: 5 },
      ],
    });
    expect(bad.status).toBe(404);
    expect(code(bad)).toBe('unknown_namespace');
    expect((bad.body.error as { details: unknown }).details).toEqual({ path: 'publications.1.channel' });
    const h = await api(server, 'GET', '/v1/channels/chat%3Aa/history');
    expect((h.body.publications as unknown[]).length).toBe(2);
  });

  it('GET /v1/channels/{channel}/history pages by offset', async () => {
    const server = await apiServer();
    for (let i = 1; i <= 7; i++) await server.publish('chat:paged', { i });
    const p1 = await api(server, 'GET', '/v1/channels/chat:paged/history?limit=3');
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ channel: 'chat:paged', offset: 7, minOffset: 1, next: 3 });
    const seen = (p1.body.publications as Array<{ offset: number }>).map((p) => p.offset);
    let next = p1.body.next as number | undefined;
    while (next !== undefined) {
      const page = await api(server, 'GET', `/v1/channels/chat:paged/history?since=${next}&limit=3`);
      seen.push(...(page.body.publications as Array<{ offset: number }>).map((p) => p.offset));
      next = page.body.next as number | undefined;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('GET /v1/channels/{channel}/presence groups entries by user', async () => {
    const server = await apiServer();
    const a1 = await client(server, 'alice');
    const a2 = await client(server, 'alice');
    const b = await client(server, 'bob');
    await a1.presence('room:r').enter({ d: 1 });
    await a2.presence('room:r').enter({ d: 2 });
    await b.presence('room:r').enter({ d: 3 });
    const r = await api(server, 'GET', '/v1/channels/room:r/presence');
    expect(r.status).toBe(200);
    const members = r.body.members as Array<{ user: string; entries: Array<{ state: unknown }> }>;
    expect(members.map((m) => m.user).sort()).toEqual(['alice', 'bob']);
    expect(members.find((m) => m.user === 'alice')?.entries.map((e) => e.state)).toEqual(
      expect.arrayContaining([{ d: 1 }, { d: 2 }]),
    );
    const disabled = await api(server, 'GET', '/v1/channels/chat:x/presence');
    expect([disabled.status, code(disabled)]).toEqual([400, 'presence_disabled']);
  });

  it('GET /v1/channels lists channels with subscriber and presence counts', async () => {
    const server = await apiServer();
    const a = await client(server, 'alice');
    const b = await client(server, 'bob');
    await a.subscribe('chat:one').ready;
    await b.subscribe('chat:one').ready;
    await b.subscribe('small:two').ready;
    await a.presence('room:three').enter({});
    const r = await api(server, 'GET', '/v1/channels');
    expect(r.body.channels).toEqual([
      { channel: 'chat:one', subscribers: 2, present: 0 },
      { channel: 'room:three', subscribers: 0, present: 1 },
      { channel: 'small:two', subscribers: 1, present: 0 },
    ]);
    const filtered = await api(server, 'GET', '/v1/channels?prefix=chat:');
    expect(filtered.body.channels).toEqual([{ channel: 'chat:one', subscribers: 2, present: 0 }]);
  });

  it('POST /v1/users/{user}/messages reaches every connection of the user', async () => {
    const server = await apiServer();
    const a1 = await client(server, 'alice');
    const a2 = await client(server, 'alice');
    const b = await client(server, 'bob');
    await Promise.all([waitState(a1, 'connected'), waitState(a2, 'connected'), waitState(b, 'connected')]);
    const got: Array<[string, UserMessageEvent]> = [];
    a1.on('userMessage', (m) => got.push(['a1', m]));
    a2.on('userMessage', (m) => got.push(['a2', m]));
    b.on('userMessage', (m) => got.push(['b', m]));
    const r = await api(server, 'POST', '/v1/users/alice/messages', { data: { hello: 'you' } });
    // A single node: it is the only one counted.
    expect(r.body).toEqual({ user: 'alice', delivered: 2, nodes: { answered: 1, expected: 1 }, partial: false });
    await waitFor(
      () => got.length === 2,
      5_000,
      () => `wanted 2 user messages, saw messages to ${describeValue(got.map(([who]) => who))}`,
    );
    expect(got.map(([who]) => who).sort()).toEqual(['a1', 'a2']);
    expect(got[0]?.[1].data).toEqual({ hello: 'you' });
    expect(server.sendToUser('bob', 'direct')).toBe(1);
    await waitFor(
      () => got.length === 3,
      5_000,
      () => `wanted 3 user messages, saw messages to ${describeValue(got.map(([who]) => who))}`,
    );
    const none = await api(server, 'POST', '/v1/users/nobody/messages', { data: 1 });
    expect(none.body).toEqual({ user: 'nobody', delivered: 0, nodes: { answered: 1, expected: 1 }, partial: false });
  });

  it('POST /v1/users/{user}/disconnect: reconnect allowed by default, forbidden with reconnect:false', async () => {
    const server = await apiServer();
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    const first = c.info?.session;
    const r = await api(server, 'POST', '/v1/users/alice/disconnect');
    expect(r.body).toEqual({ user: 'alice', disconnected: 1, nodes: { answered: 1, expected: 1 }, partial: false });
    await waitFor(
      () => c.state === 'connected' && c.info?.session !== first,
      10_000,
      () =>
        `wanted the client connected in a new session, saw ${c.state} in ${c.info?.session === first ? 'the first' : 'a new'} session`,
    );

    const states: StateChange[] = [];
    c.on('state', (s) => states.push(s));
    const started = Date.now();
    const r2 = await api(server, 'POST', '/v1/users/alice/disconnect', { reconnect: false, reason: 'banned' });
    expect(r2.body).toMatchObject({ user: 'alice', disconnected: 1, revokedBefore: expect.any(Number) });
    await waitForValue(() => c.state, 'disconnected', 1_000, 'client state');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(states[0]?.code).toBe(CLOSE_CODES.REVOKED.code);
  });

  it('POST, GET and DELETE /v1/users/{user}/revoke', async () => {
    const server = await apiServer();
    const c = await client(server, 'alice');
    await waitState(c, 'connected');
    expect(await api(server, 'GET', '/v1/users/alice/revoke')).toEqual({
      status: 200,
      body: { user: 'alice', revoked: false },
    });
    const before = Date.now() + 60_000;
    const r = await api(server, 'POST', '/v1/users/alice/revoke', { before });
    expect(r.body).toMatchObject({ user: 'alice', before, disconnected: 1 });
    await waitForValue(() => c.state, 'disconnected', 5_000, 'client state');
    expect(await api(server, 'GET', '/v1/users/alice/revoke')).toEqual({
      status: 200,
      body: { user: 'alice', revoked: true, before },
    });
    // An earlier time does not move it back; the read says so.
    await api(server, 'POST', '/v1/users/alice/revoke', { before: before - 1_000 });
    expect((await api(server, 'GET', '/v1/users/alice/revoke')).body).toEqual({ user: 'alice', revoked: true, before });
    // Another user is not revoked; an id with characters to escape reads back as given.
    expect((await api(server, 'GET', '/v1/users/bob/revoke')).body).toEqual({ user: 'bob', revoked: false });
    expect((await api(server, 'GET', `/v1/users/${encodeURIComponent('a b/ü')}/revoke`)).body).toEqual({
      user: 'a b/ü',
      revoked: false,
    });
    const lifted = await api(server, 'DELETE', '/v1/users/alice/revoke');
    expect(lifted.body).toEqual({ user: 'alice', lifted: true });
    expect((await api(server, 'GET', '/v1/users/alice/revoke')).body).toEqual({ user: 'alice', revoked: false });
    const c2 = await client(server, 'alice');
    await waitState(c2, 'connected');
  });

  it('GET /v1/users/{user}/revoke refuses a bad user id, a missing key and unknown query parameters', async () => {
    const server = await apiServer();
    await api(server, 'POST', '/v1/users/alice/revoke');
    const long = await api(server, 'GET', `/v1/users/${'u'.repeat(201)}/revoke`);
    expect([long.status, code(long), (long.body.error as { details?: unknown }).details]).toEqual([
      400,
      'invalid_request',
      { path: '', in: 'path' },
    ]);
    expect((await api(server, 'GET', `/v1/users/${'u'.repeat(200)}/revoke`)).body).toMatchObject({ revoked: false });
    const unknown = await api(server, 'GET', '/v1/users/alice/revoke?verbose=1');
    expect([unknown.status, code(unknown), (unknown.body.error as { details?: unknown }).details]).toEqual([
      400,
      'invalid_request',
      { path: 'verbose', in: 'query' },
    ]);
    // The key is needed: a revocation is not disclosed without it.
    for (const key of [null, 'wrong-key']) {
      const r = await api(server, 'GET', '/v1/users/alice/revoke', undefined, { key });
      expect([r.status, code(r), r.body.revoked]).toEqual([401, 'unauthorized', undefined]);
    }
    // GET, POST and DELETE are the path's methods.
    const put = await fetch(`${server.url}/v1/users/alice/revoke`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'POST, GET, DELETE']);
  });

  it('GET /v1/openapi.json describes every route from the same schemas', async () => {
    const server = await apiServer();
    const r = await api(server, 'GET', '/v1/openapi.json', undefined, { key: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const paths = r.body.paths as Record<string, Record<string, { requestBody?: unknown; responses: object }>>;
    expect(Object.keys(paths).sort()).toEqual([
      '/v1/app',
      '/v1/app/announce',
      '/v1/app/clients',
      '/v1/channels',
      '/v1/channels/{channel}',
      '/v1/channels/{channel}/history',
      '/v1/channels/{channel}/presence',
      '/v1/connections/{id}/disconnect',
      '/v1/docs',
      '/v1/docs/{name}',
      '/v1/docs/{name}/mutate',
      '/v1/docs/{name}/ops',
      '/v1/nodes',
      '/v1/publish',
      '/v1/publish/batch',
      '/v1/users',
      '/v1/users/{user}/connections',
      '/v1/users/{user}/disconnect',
      '/v1/users/{user}/messages',
      '/v1/users/{user}/revoke',
      '/v1/webhooks/deliveries',
      '/v1/webhooks/deliveries/{id}/retry',
    ]);
    const publish = paths['/v1/publish']?.post as {
      requestBody: { content: { 'application/json': { schema: { required: string[]; properties: object } } } };
      responses: Record<string, unknown>;
    };
    const schema = publish.requestBody.content['application/json'].schema;
    expect(schema.required.sort()).toEqual(['channel', 'data']);
    expect(Object.keys(schema.properties).sort()).toEqual(['channel', 'data', 'key']);
    expect(Object.keys(publish.responses).sort()).toEqual(['200', '400', '401', '404', '413', '500', '503']);
    expect(paths['/v1/users/{user}/revoke']?.delete).toBeDefined();
    const announce = paths['/v1/app/announce']?.post as typeof publish;
    const announceSchema = announce.requestBody.content['application/json'].schema;
    expect(announceSchema.required).toEqual(['version']);
    expect(Object.keys(announceSchema.properties).sort()).toEqual([
      'message',
      'minClientVersion',
      'recommendedClientVersion',
      'version',
    ]);
    expect(Object.keys(announce.responses).sort()).toEqual(['200', '400', '401', '413', '500']);
    expect(paths['/v1/app']?.get?.responses).toHaveProperty('200');
  });

  it('GET /v1/openapi.json lists the document routes with their schemas', async () => {
    const server = await apiServer();
    const r = await api(server, 'GET', '/v1/openapi.json', undefined, { key: null });
    interface Operation {
      operationId: string;
      parameters: Array<{ name: string; in: string; required: boolean; schema: { type: string } }>;
      requestBody?: { required: boolean; content: { 'application/json': { schema: JsonObjectSchema } } };
      responses: Record<string, { content: { 'application/json': { schema: JsonObjectSchema } } }>;
    }
    interface JsonObjectSchema {
      type: string;
      required?: string[];
      properties: Record<string, { type?: string }>;
    }
    const paths = r.body.paths as Record<string, Record<string, Operation>>;
    const get = paths['/v1/docs/{name}']?.get as Operation;
    expect(get.operationId).toBe('getDocument');
    expect(get.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
    expect(get.parameters[0]?.schema.type).toBe('string');
    const doc = get.responses['200']?.content['application/json'].schema as JsonObjectSchema;
    expect(doc.required?.sort()).toEqual(['clients', 'doc', 'schemaVersion', 'state', 'version']);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '400', '401', '404', '500', '503']);

    const mutate = paths['/v1/docs/{name}/mutate']?.post as Operation;
    expect(mutate.operationId).toBe('mutateDocument');
    expect(mutate.parameters.map((p) => [p.name, p.in])).toEqual([['name', 'path']]);
    expect(mutate.requestBody?.required).toBe(true);
    const body = mutate.requestBody?.content['application/json'].schema as JsonObjectSchema;
    expect(body.type).toBe('object');
    expect(body.required).toEqual(['name']);
    expect(Object.keys(body.properties).sort()).toEqual(['args', 'clientId', 'mutationId', 'name', 'userId']);
    expect(body.properties.mutationId?.type).toBe('integer');
    const result = mutate.responses['200']?.content['application/json'].schema as JsonObjectSchema;
    expect(result.required?.sort()).toEqual(['doc', 'version']);
    expect(Object.keys(result.properties).sort()).toEqual(['doc', 'duplicate', 'version']);
    expect(Object.keys(mutate.responses).sort()).toEqual(['200', '400', '401', '404', '413', '500', '503']);
    expect(paths['/v1/docs/{name}']?.post).toBeUndefined();
    expect(paths['/v1/docs/{name}/mutate']?.get).toBeUndefined();
  });
});
