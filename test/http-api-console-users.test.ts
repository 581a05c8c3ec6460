import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOSE_CODES, jsonCodec, msgpackCodec, PROTOCOL_VERSION } from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { API_KEY as CLUSTER_KEY, type ClusterNode, nodeApi, startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';
import { type ConsoleSocket, consoleSocket, consoleSockets } from './console-sockets.js';
import { defer, token, waitForValue } from './helpers.js';
import { API_KEY, type ApiResponse, api, apiServer, code } from './http-api-helpers.js';
import { rawPeer } from './raw-peers.js';

const SERVER_VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'packages', 'server', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Visits every page of `GET /v1/users` with `query`; returns the users in the order seen and the pages. */
async function allPages(
  server: SynclineServer,
  query: string,
): Promise<{ seen: Array<{ user: string; connections: number }>; pages: number }> {
  const seen: Array<{ user: string; connections: number }> = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const cursor = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
    const r = await api(server, 'GET', `/v1/users?${query}${cursor}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ nodes: { answered: 1, expected: 1 }, partial: false });
    pages++;
    seen.push(...(r.body.users as typeof seen));
    if (r.body.next === undefined) return { seen, pages };
    expect(r.body.next).toBe(seen.at(-1)?.user);
    after = r.body.next as string;
  }
}

function expectInvalid(r: ApiResponse, path: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(code(r)).toBe('invalid_request');
  expect((r.body.error as { details?: { path?: string } }).details?.path).toBe(path);
}

describe('HTTP API: users, connections and nodes (one node)', () => {
  it('pages through a few hundred connected users once each, in id order, with prefix and limit', async () => {
    const server = await apiServer();
    // 240 users: 60 of them (team-*) with two connections, 180 (user-*) with one; 300 connections.
    const userOf = (i: number): string =>
      i < 120 ? `team-${String(Math.floor(i / 2)).padStart(3, '0')}` : `user-${String(i).padStart(3, '0')}`;
    await consoleSockets(server.url, 300, userOf);
    const expected = [...new Set(Array.from({ length: 300 }, (_, i) => userOf(i)))].sort();

    const { seen, pages } = await allPages(server, 'limit=17');
    expect(seen.map((u) => u.user)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 17));
    for (const u of seen) expect(u.connections).toBe(u.user.startsWith('team-') ? 2 : 1);

    const team = await allPages(server, 'prefix=team-&limit=1000');
    expect(team.pages).toBe(1);
    expect(team.seen).toHaveLength(60);
    expect(team.seen.every((u) => u.user.startsWith('team-') && u.connections === 2)).toBe(true);
    const first = await api(server, 'GET', '/v1/users');
    expect(first.body.users).toHaveLength(100);
    expect(first.body.next).toBe(expected[99]);
    const none = await api(server, 'GET', '/v1/users?prefix=nobody');
    expect(none.body).toEqual({ users: [], nodes: { answered: 1, expected: 1 }, partial: false });
  }, 60_000);

  it("lists a user's connections with transport, versions, address and subscriptions, capped", async () => {
    const server = await apiServer({
      trustProxy: 1,
      limits: { maxConnectionsPerUser: 200 },
      docs: { notes: { initialState: { text: '' }, mutators: {} } },
    });
    const proxied = await consoleSocket(server.url, 'alice', {
      app: { version: '2.4.0', build: 'b7' },
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
    });
    for (let i = 0; i < 25; i++) await proxied.request({ type: 'subscribe', channel: `chat:room-${i}` });
    await proxied.request({ type: 'presence.enter', channel: 'room:lobby', clientId: 'tab-1', state: {} });
    await proxied.request({ type: 'doc.subscribe', doc: 'notes:todo' });
    const plain = await consoleSocket(server.url, 'alice');

    const r = await api(server, 'GET', '/v1/users/alice/connections');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      user: 'alice',
      total: 2,
      truncated: false,
      nodes: { answered: 1, expected: 1 },
      partial: false,
    });
    const [a, b] = r.body.connections as Array<Record<string, unknown>>;
    const channels = Array.from({ length: 25 }, (_, i) => `chat:room-${i}`).sort();
    expect(a).toEqual({
      id: proxied.id,
      user: 'alice',
      node: server.core.nodeId,
      transport: 'websocket',
      codec: 'json',
      protocol: expect.any(Number),
      app: { version: '2.4.0', build: 'b7' },
      ip: '203.0.113.9',
      connectedAt: expect.any(Number),
      channels: { count: 25, names: channels.slice(0, 20) },
      presence: { count: 1, names: ['room:lobby'] },
      docs: { count: 1, names: ['notes:todo'] },
    });
    expect(b).toMatchObject({ id: plain.id, ip: '127.0.0.1', channels: { count: 0, names: [] } });
    expect(b).not.toHaveProperty('app');
    expect(await api(server, 'GET', '/v1/users/nobody/connections')).toMatchObject({
      status: 200,
      body: { user: 'nobody', connections: [], total: 0, truncated: false },
    });

    // The HTTP transports and the MessagePack codec show as such.
    for (const [transport, codec] of [
      ['sse', msgpackCodec],
      ['longpoll', jsonCodec],
    ] as const) {
      const peer = await rawPeer(server.url, transport, codec);
      const connect = { type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('carol') };
      await peer.send(codec.encode(connect) as Uint8Array | string);
      await peer.next((m) => m.id === 1);
      defer(() => peer.close());
    }
    const carol = await api(server, 'GET', '/v1/users/carol/connections');
    const shown = (carol.body.connections as Array<{ transport: string; codec: string }>)
      .map((c) => `${c.transport}/${c.codec}`)
      .sort();
    expect(shown).toEqual(['longpoll/json', 'sse/msgpack']);

    // More connections than one answer lists: the oldest 100, with the total.
    await consoleSockets(server.url, 110, () => 'many');
    const many = await api(server, 'GET', '/v1/users/many/connections');
    const listed = many.body.connections as Array<{ connectedAt: number }>;
    expect(many.body).toMatchObject({ total: 110, truncated: true });
    expect(listed).toHaveLength(100);
    expect(listed.map((c) => c.connectedAt)).toEqual(listed.map((c) => c.connectedAt).sort((x, y) => x - y));
  }, 60_000);

  it('disconnects exactly one connection; an unknown one is not_found', async () => {
    const server = await apiServer();
    const [one, two, three] = (await consoleSockets(server.url, 3, () => 'bob')) as [
      ConsoleSocket,
      ConsoleSocket,
      ConsoleSocket,
    ];
    const r = await api(server, 'POST', `/v1/connections/${one.id}/disconnect`);
    expect(r).toEqual({
      status: 200,
      body: { connection: one.id, disconnected: 1, nodes: { answered: 1, expected: 1 }, partial: false },
    });
    await waitForValue(() => one.closedWith(), CLOSE_CODES.FORCE_DISCONNECT.code, 5_000, 'close code of the first');
    const stop = await api(server, 'POST', `/v1/connections/${two.id}/disconnect`, {
      reconnect: false,
      reason: 'bye',
    });
    expect(stop.body.disconnected).toBe(1);
    await waitForValue(() => two.closedWith(), CLOSE_CODES.REVOKED.code, 5_000, 'close code of the second');
    expect(three.closedWith()).toBeUndefined();
    await expect
      .poll(async () => (await api(server, 'GET', '/v1/users/bob/connections')).body.total, { timeout: 5_000 })
      .toBe(1);

    const again = await api(server, 'POST', `/v1/connections/${one.id}/disconnect`);
    expect(again.status).toBe(404);
    expect(code(again)).toBe('not_found');
    expect(three.closedWith()).toBeUndefined();
  });

  it('refuses bad input and callers without the key with documented errors', async () => {
    const server = await apiServer();
    expectInvalid(await api(server, 'GET', '/v1/users?limit=0'), 'limit');
    expectInvalid(await api(server, 'GET', '/v1/users?limit=1001'), 'limit');
    expectInvalid(await api(server, 'GET', '/v1/users?limit=ten'), 'limit');
    expectInvalid(await api(server, 'GET', `/v1/users?prefix=${'p'.repeat(201)}`), 'prefix');
    expectInvalid(await api(server, 'GET', `/v1/users?after=${'a'.repeat(201)}`), 'after');
    expect(code(await api(server, 'GET', '/v1/users?page=2'))).toBe('invalid_request');
    expect(code(await api(server, 'GET', `/v1/users/${'u'.repeat(201)}/connections`))).toBe('invalid_request');
    expect(code(await api(server, 'POST', '/v1/connections/not*an*id/disconnect'))).toBe('invalid_request');
    expect(code(await api(server, 'POST', `/v1/connections/${'x'.repeat(65)}/disconnect`))).toBe('invalid_request');
    expectInvalid(await api(server, 'POST', '/v1/connections/abc/disconnect', { reconnect: 'no' }), 'reconnect');
    expectInvalid(await api(server, 'POST', '/v1/connections/abc/disconnect', { reason: 'r'.repeat(121) }), 'reason');
    for (const [method, path] of [
      ['GET', '/v1/users'],
      ['GET', '/v1/users/alice/connections'],
      ['POST', '/v1/connections/abc/disconnect'],
      ['GET', '/v1/nodes'],
    ] as const) {
      const r = await api(server, method, path, undefined, { key: null });
      expect([path, r.status, code(r)]).toEqual([path, 401, 'unauthorized']);
      expect(code(await api(server, method, path, undefined, { key: `${API_KEY}x` }))).toBe('unauthorized');
    }
  });

  it('lists this node alone, with its live values', async () => {
    const server = await apiServer();
    await consoleSockets(server.url, 3, (i) => `n${i % 2}`);
    const r = await api(server, 'GET', '/v1/nodes');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({
      node: server.core.nodeId,
      members: [
        {
          id: server.core.nodeId,
          version: SERVER_VERSION,
          protocol: { min: 1, max: expect.any(Number) },
          startedAt: expect.any(Number),
          uptimeMs: expect.any(Number),
          connections: 3,
          maxConnections: expect.any(Number),
          users: 2,
          ready: true,
          draining: false,
          broker: 'up',
          docs: 'up',
        },
      ],
      totals: { nodes: 1, ready: 1, draining: 0, connections: 3 },
      missing: [],
      nodes: { answered: 1, expected: 1 },
      partial: false,
    });
  });
});

/** Node announces every 200 ms; an answer waits at most 800 ms for the other nodes. */
const TIMING = { nodeHeartbeatMs: 200, nodeTtlMs: 4_000, countWaitMs: 800 };
/** Slack for the HTTP round trip on a busy machine, on top of the wait. */
const SLACK_MS = 1_500;

/** Calls a node's HTTP API; the status, the body and how long the answer took. */
async function timed(
  url: string,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown>; tookMs: number }> {
  const start = Date.now();
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${CLUSTER_KEY}` } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, tookMs: Date.now() - start };
}

async function nodeIds(nodes: readonly ClusterNode[]): Promise<string[]> {
  return Promise.all(
    nodes.map(async (n) => ((await (await fetch(`${n.url}/healthz`)).json()) as { node: string }).node),
  );
}

describe.runIf(redisService.available)('HTTP API: users, connections and nodes (cluster of 3, Redis)', () => {
  it("lists every node, pages users over all nodes, lists a user's connections with their nodes, closes one elsewhere", async () => {
    const { nodes } = await startCluster({ nodes: 3, config: { cluster: TIMING } });
    const urls = nodes.map((n) => n.url);
    const ids = await nodeIds(nodes);
    const complete = { nodes: { answered: 3, expected: 3 }, partial: false };

    const listed = await nodeApi(urls[0] as string, 'GET', '/v1/nodes');
    expect(listed).toMatchObject({ node: ids[0], missing: [], ...complete });
    expect((listed.members as Array<{ id: string; ready: boolean }>).map((m) => [m.id, m.ready])).toEqual(
      [...ids].sort().map((id) => [id, true]),
    );

    // erin on every node; 24 more users, the even ones on two nodes.
    const erin = await Promise.all(urls.map((u) => consoleSocket(u, 'erin')));
    const others: Array<{ user: string; connections: number }> = [];
    for (let i = 0; i < 24; i++) {
      const user = `u-${String(i).padStart(2, '0')}`;
      const on = i % 2 === 0 ? [i % 3, (i + 1) % 3] : [i % 3];
      await Promise.all(on.map((n) => consoleSocket(urls[n] as string, user)));
      others.push({ user, connections: on.length });
    }
    const seen: unknown[] = [];
    let after = '';
    for (let page = 0; page < 20; page++) {
      const r = await nodeApi(urls[page % 3] as string, 'GET', `/v1/users?prefix=u-&limit=5&after=${after}`);
      expect(r).toMatchObject(complete);
      seen.push(...(r.users as unknown[]));
      if (r.next === undefined) break;
      after = r.next as string;
    }
    expect(seen).toEqual(others);

    const conns = await nodeApi(urls[1] as string, 'GET', '/v1/users/erin/connections');
    expect(conns).toMatchObject({ user: 'erin', total: 3, truncated: false, ...complete });
    const list = conns.connections as Array<{ id: string; node: string }>;
    expect(list.map((c) => [c.node, c.id]).sort()).toEqual(erin.map((s, i) => [ids[i], s.id]).sort());
    expect(erin.map((s) => s.node)).toEqual(ids);

    // A closes erin's connection on C: exactly that one closes.
    const closed = await timed(urls[0] as string, 'POST', `/v1/connections/${erin[2]?.id}/disconnect`);
    expect(closed.body).toMatchObject({ connection: erin[2]?.id, disconnected: 1, partial: false });
    await waitForValue(() => erin.map((s) => s.closedWith()), [undefined, undefined, 4010], 5_000, 'close codes');
    const unknown = await timed(urls[2] as string, 'POST', '/v1/connections/nosuchconnection/disconnect');
    expect([unknown.status, (unknown.body.error as { code: string }).code]).toEqual([404, 'not_found']);
    expect(unknown.tookMs).toBeLessThan(TIMING.countWaitMs);
  }, 90_000);

  it('a frozen or killed node: answers come within the wait, marked partial, naming the node', async () => {
    const { nodes } = await startCluster({ nodes: 3, config: { cluster: TIMING } });
    const urls = nodes.map((n) => n.url) as [string, string, string];
    const ids = await nodeIds(nodes);
    const grace = await Promise.all(urls.map((u) => consoleSocket(u, 'grace')));
    const partial = { nodes: { answered: 2, expected: 3 }, partial: true };

    nodes[2]?.proc.kill('SIGSTOP');
    const listed = await timed(urls[0], 'GET', '/v1/nodes');
    expect(listed.body).toMatchObject({ missing: [ids[2]], totals: { nodes: 2 }, ...partial });
    expect(listed.tookMs).toBeGreaterThanOrEqual(TIMING.countWaitMs - 50);
    expect(listed.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);
    const conns = await timed(urls[1], 'GET', '/v1/users/grace/connections');
    expect(conns.body).toMatchObject({ total: 2, ...partial });
    const users = await timed(urls[0], 'GET', '/v1/users');
    expect(users.body).toMatchObject({ users: [{ user: 'grace', connections: 2 }], ...partial });
    // Not found while a node is silent: it may be there, so no 404.
    const unknown = await timed(urls[0], 'POST', '/v1/connections/nosuchconnection/disconnect');
    expect(unknown).toMatchObject({ status: 200, body: { disconnected: 0, ...partial } });
    expect(unknown.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);
    // A connection on a live node: the answer comes with that node's reply, without waiting for C.
    const found = await timed(urls[0], 'POST', `/v1/connections/${grace[1]?.id}/disconnect`);
    expect(found.body).toMatchObject({ disconnected: 1, partial: false });
    expect(found.tookMs).toBeLessThan(TIMING.countWaitMs);

    nodes[2]?.proc.kill('SIGKILL');
    const after = await timed(urls[1], 'GET', '/v1/nodes');
    expect(after.body).toMatchObject({ missing: [ids[2]], ...partial });
    expect(after.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);
    expect(grace[0]?.closedWith()).toBeUndefined();
  }, 90_000);
});
