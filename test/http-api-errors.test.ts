import { MAX_MUTATE_BODY_BYTES } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';
import { API_KEY, type ApiResponse, api, apiServer, code } from './http-api-helpers.js';

function details(r: ApiResponse): unknown {
  return (r.body.error as { details?: unknown }).details;
}

async function historyLength(server: Awaited<ReturnType<typeof apiServer>>, channel: string): Promise<number> {
  const r = await api(server, 'GET', `/v1/channels/${encodeURIComponent(channel)}/history?limit=1000`);
  return (r.body.publications as unknown[]).length;
}

describe('HTTP API errors', () => {
  it('bad or missing API key: 401 unauthorized on every route', async () => {
    const server = await apiServer();
    const routes: Array<[string, string, unknown]> = [
      ['POST', '/v1/publish', { channel: 'chat:a', data: 1 }],
      ['POST', '/v1/publish/batch', { publications: [{ channel: 'chat:a', data: 1 }] }],
      ['GET', '/v1/channels', undefined],
      ['GET', '/v1/channels/chat:a', undefined],
      ['GET', '/v1/channels/chat:a/history', undefined],
      ['GET', '/v1/channels/room:a/presence', undefined],
      ['POST', '/v1/users/alice/disconnect', {}],
      ['POST', '/v1/users/alice/revoke', {}],
      ['DELETE', '/v1/users/alice/revoke', undefined],
      ['GET', '/v1/users/alice/revoke', undefined],
      ['POST', '/v1/users/alice/messages', { data: 1 }],
      ['GET', '/v1/users', undefined],
      ['GET', '/v1/users/alice/connections', undefined],
      ['POST', '/v1/connections/c1/disconnect', undefined],
      ['GET', '/v1/nodes', undefined],
      ['GET', '/v1/app', undefined],
      ['POST', '/v1/app/announce', { version: '9.0.0' }],
      ['GET', '/v1/app/clients', undefined],
      ['GET', '/v1/docs', undefined],
      ['GET', '/v1/docs/todo:a', undefined],
      ['GET', '/v1/docs/todo:a/ops', undefined],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'increment' }],
      ['GET', '/v1/webhooks/deliveries', undefined],
      ['POST', '/v1/webhooks/deliveries/1/retry', undefined],
    ];
    // The list covers every route of the OpenAPI document.
    const doc = await api(server, 'GET', '/v1/openapi.json', undefined, { key: null });
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const tested = routes.map(
      ([m, p]) =>
        `${m} ${p
          .replace('/alice/', '/{user}/')
          .replace(/\/(chat|room):a(\/|$)/, '/{channel}$2')
          .replace('/todo:a', '/{name}')
          .replace('/deliveries/1/', '/deliveries/{id}/')
          .replace('/connections/c1/', '/connections/{id}/')}`,
    );
    expect(tested.sort()).toEqual(documented.sort());
    for (const [method, path, body] of routes) {
      for (const key of [null, 'wrong-key', '']) {
        const r = await api(server, method, path, body, { key });
        expect([method, path, key, r.status, code(r)]).toEqual([method, path, key, 401, 'unauthorized']);
      }
    }
    const basic = await api(server, 'GET', '/v1/channels', undefined, {
      key: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);
    expect(await historyLength(server, 'chat:a')).toBe(0);
    expect(server.app).toBeUndefined();
    // Without an apiKey the API is off.
    const off = await startServer();
    const r = await api(off, 'GET', '/v1/channels', undefined, { key: 'anything' });
    expect([r.status, code(r)]).toEqual([401, 'unauthorized']);
  });

  it('bad bodies: 400 invalid_request naming the field, nothing stored', async () => {
    const server = await apiServer();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/publish', '{not json', ''],
      ['POST', '/v1/publish', '', ''],
      ['POST', '/v1/publish', [1, 2], ''],
      ['POST', '/v1/publish', { channel: 5, data: 1 }, 'channel'],
      ['POST', '/v1/publish', { channel: 'chat:a' }, ''],
      ['POST', '/v1/publish', { channel: 'chat:a', data: 1, key: '' }, 'key'],
      ['POST', '/v1/publish', { channel: 'chat:a', data: 1, extra: true }, ''],
      ['POST', '/v1/publish/batch', { publications: [] }, 'publications'],
      ['POST', '/v1/publish/batch', { publications: [{ channel: 'chat:a', data: 1 }, { data: 2 }] }, ''],
      [
        'POST',
        '/v1/publish/batch',
        { publications: Array.from({ length: 101 }, () => ({ channel: 'chat:a', data: 1 })) },
        'publications',
      ],
      ['POST', '/v1/users/alice/disconnect', { reconnect: 'no' }, 'reconnect'],
      ['POST', '/v1/users/alice/revoke', { before: 'yesterday' }, 'before'],
      ['POST', '/v1/users/alice/messages', {}, ''],
      ['POST', `/v1/users/${'u'.repeat(201)}/messages`, { data: 1 }, ''],
      ['POST', '/v1/app/announce', {}, 'version'],
      ['POST', '/v1/app/announce', { version: 'two' }, 'version'],
      ['POST', '/v1/app/announce', { version: '2.0.0', minClientVersion: 'x' }, 'minClientVersion'],
      ['POST', '/v1/app/announce', '{not json', ''],
      ['POST', '/v1/docs/todo:a/mutate', '{not json', ''],
      ['POST', '/v1/docs/todo:a/mutate', '', ''],
      ['POST', '/v1/docs/todo:a/mutate', [1, 2], ''],
      ['POST', '/v1/docs/todo:a/mutate', { args: {} }, 'name'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 5 }, 'name'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'n'.repeat(101) }, 'name'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'm', clientId: 'short', mutationId: 1 }, 'clientId'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'm', clientId: 'client-0001', mutationId: 0 }, 'mutationId'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'm', clientId: 'client-0001', mutationId: 1.5 }, 'mutationId'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'm', clientId: 'client-0001' }, 'mutationId'],
      ['POST', '/v1/docs/todo:a/mutate', { name: 'm', userId: 'u'.repeat(256) }, 'userId'],
      ['GET', `/v1/docs/todo:${'d'.repeat(300)}`, undefined, ''],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api(server, method, path, body);
      expect([path, body, r.status, code(r)]).toEqual([path, body, 400, 'invalid_request']);
      if (field) expect((details(r) as { path: string }).path).toBe(field);
    }
    expect(await historyLength(server, 'chat:a')).toBe(0);
    expect(server.app).toBeUndefined();
  });

  it('bad query strings: 400 invalid_request', async () => {
    const server = await apiServer();
    for (const q of ['since=abc', 'limit=0', 'limit=5000', 'since=-1', 'page=2']) {
      const r = await api(server, 'GET', `/v1/channels/chat:a/history?${q}`);
      expect([q, r.status, code(r)]).toEqual([q, 400, 'invalid_request']);
    }
    const r = await api(server, 'GET', '/v1/channels?limit=0');
    expect([r.status, code(r)]).toEqual([400, 'invalid_request']);
  });

  it('unknown namespace: 404 unknown_namespace', async () => {
    const server = await apiServer();
    const r1 = await api(server, 'POST', '/v1/publish', { channel: 'nope:a', data: 1 });
    const r2 = await api(server, 'GET', '/v1/channels/nope:a/history');
    const r3 = await api(server, 'GET', '/v1/channels/nope:a/presence');
    const r4 = await api(server, 'POST', '/v1/publish/batch', {
      publications: [
        { channel: 'chat:a', data: 1 },
        { channel: 'nope:a', data: 2 },
      ],
    });
    const r5 = await api(server, 'GET', '/v1/docs/nope:a');
    const r6 = await api(server, 'POST', '/v1/docs/nope:a/mutate', { name: 'm' });
    for (const r of [r1, r2, r3, r4, r5, r6]) expect([r.status, code(r)]).toEqual([404, 'unknown_namespace']);
    // A batch is all or nothing: its valid publication was not stored either.
    expect(await historyLength(server, 'chat:a')).toBe(0);
  });

  it('forbidden characters in channel names: 400 bad_channel', async () => {
    const server = await apiServer();
    for (const channel of [
      'chat:a b',
      'Chat:x',
      'chat:<script>',
      'chat:',
      'nocolon',
      'chat:ä',
      `chat:${'x'.repeat(191)}`,
    ]) {
      const r = await api(server, 'POST', '/v1/publish', { channel, data: 1 });
      expect([channel, r.status, code(r)]).toEqual([channel, 400, 'bad_channel']);
      const h = await api(server, 'GET', `/v1/channels/${encodeURIComponent(channel)}/history`);
      expect([channel, h.status, code(h)]).toEqual([channel, 400, 'bad_channel']);
      const p = await api(server, 'GET', `/v1/channels/${encodeURIComponent(channel)}/presence`);
      expect([channel, p.status, code(p)]).toEqual([channel, 400, 'bad_channel']);
      const b = await api(server, 'POST', '/v1/publish/batch', { publications: [{ channel, data: 1 }] });
      expect([channel, b.status, code(b)]).toEqual([channel, 400, 'bad_channel']);
    }
  });

  it('oversize payloads: 413 frame_too_large, nothing stored', async () => {
    const server = await apiServer({ maxFrameBytes: 4_096 });
    const big = { channel: 'chat:big', data: 'x'.repeat(5_000) };
    const r = await api(server, 'POST', '/v1/publish', big);
    expect([r.status, code(r)]).toEqual([413, 'frame_too_large']);
    expect(details(r)).toEqual({ limit: 4_096 });
    const batch = await api(server, 'POST', '/v1/publish/batch', { publications: [big] });
    expect([batch.status, code(batch)]).toEqual([413, 'frame_too_large']);
    const msg = await api(server, 'POST', '/v1/users/alice/messages', { data: 'y'.repeat(5_000) });
    expect([msg.status, code(msg)]).toEqual([413, 'frame_too_large']);
    for (const path of ['/v1/users/alice/disconnect', '/v1/users/alice/revoke']) {
      const r = await api(server, 'POST', path, { pad: 'z'.repeat(5_000) });
      expect([path, r.status, code(r)]).toEqual([path, 413, 'frame_too_large']);
    }
    const announce = await api(server, 'POST', '/v1/app/announce', { version: '2.0.0', message: 'm'.repeat(9_000) });
    expect([announce.status, code(announce)]).toEqual([413, 'frame_too_large']);
    // Document mutations have their own limit (MAX_MUTATE_BODY_BYTES), not maxFrameBytes.
    const mutate = await api(server, 'POST', '/v1/docs/nope:a/mutate', { name: 'm', args: 'a'.repeat(5_000) });
    expect([mutate.status, code(mutate)]).toEqual([404, 'unknown_namespace']);
    const hugeMutate = await api(server, 'POST', '/v1/docs/nope:a/mutate', {
      name: 'm',
      args: 'a'.repeat(MAX_MUTATE_BODY_BYTES),
    });
    expect([hugeMutate.status, code(hugeMutate)]).toEqual([413, 'frame_too_large']);
    expect(details(hugeMutate)).toEqual({ limit: MAX_MUTATE_BODY_BYTES });
    expect(server.app).toBeUndefined();
    expect(await historyLength(server, 'chat:big')).toBe(0);
    // The server keeps serving.
    const ok = await api(server, 'POST', '/v1/publish', { channel: 'chat:big', data: 'small' });
    expect(ok.status).toBe(200);
  });

  it('unknown routes get 404 not_found; known paths with other methods 405 method_not_allowed and Allow', async () => {
    const server = await apiServer();
    const r = await api(server, 'GET', '/v1/nothing-here');
    expect([r.status, code(r)]).toEqual([404, 'not_found']);
    const m = await api(server, 'GET', '/v1/publish');
    expect([m.status, code(m)]).toEqual([405, 'method_not_allowed']);
    // The Allow header lists the methods the path takes (a path with a parameter too).
    const raw = await fetch(`${server.url}/v1/publish`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect([raw.status, raw.headers.get('allow')]).toEqual([405, 'POST']);
    const doc = await fetch(`${server.url}/v1/channels/chat:x/history`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect([doc.status, doc.headers.get('allow')]).toEqual([405, 'GET']);
    for (const [method, path, allow] of [
      ['DELETE', '/v1/docs/todo:x', 'GET'],
      ['GET', '/v1/docs/todo:x/mutate', 'POST'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}` } });
      const body = (await res.json()) as { error: { code: string } };
      expect([path, res.status, res.headers.get('allow'), body.error.code]).toEqual([
        path,
        405,
        allow,
        'method_not_allowed',
      ]);
    }
  });
});
