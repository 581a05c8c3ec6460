/**
 * The console's overview in a cluster: two nodes in this process on one
 * Redis key space each publish their snapshot to the overview channel, so a
 * console signed in to either node sees both; a console's live tail of an
 * app channel and its publishes cross nodes too.
 */
import { connectRedisCluster } from '@syncline/redis';
import type { NodeSnapshot } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, consoleLogin, consoleToken } from './admin-helpers.js';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { client, startServer, waitState } from './helpers.js';

async function node(prefix: string, nodeId: string) {
  const parts = await connectRedisCluster({ url: REDIS_URL, prefix });
  return startServer({
    nodeId,
    broker: parts.broker,
    revocations: parts.revocations,
    admin: { key: ADMIN_KEY },
  });
}

describe.runIf(redisService.available)('console overview across nodes (Redis)', () => {
  it('shows every node: each publishes its own snapshot to the overview channel', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'admin-a');
    const b = await node(prefix, 'admin-b');
    const login = await consoleLogin(a);
    const seen = new Map<string, NodeSnapshot>();
    const watcher = await client(a, 'ignored', { getToken: () => consoleToken(a, login) });
    await watcher.subscribe('syncline-admin:overview', {
      onPublication: (p) => {
        const s = p.data as NodeSnapshot;
        seen.set(s.node, s);
      },
    }).ready;
    // A client on node b shows up in b's snapshot, seen from a.
    const onB = await client(b, 'bob');
    await waitState(onB, 'connected');
    await expect
      .poll(() => [...seen.values()].map((s) => `${s.node}:${s.connections}`).sort(), { timeout: 10_000 })
      .toEqual(['admin-a:1', 'admin-b:1']);
    // A session of node a is one of node b too (test/cluster-admin-sessions.test.ts covers the rest).
    expect((await fetch(`${b.url}/admin/api/session`, { headers: { cookie: login.cookie } })).status).toBe(200);
  });

  it('tails an app channel from one node while clients of another publish; the console publishes to them', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'admin-a');
    const b = await node(prefix, 'admin-b');
    const login = await consoleLogin(a);
    const tail: unknown[] = [];
    const watcher = await client(a, 'ignored', { getToken: () => consoleToken(a, login) });
    await watcher.subscribe('chat:across', { onPublication: (p) => tail.push(p.data) }).ready;
    const onB = await client(b, 'bob');
    const gotOnB: unknown[] = [];
    await onB.subscribe('chat:across', { onPublication: (p) => gotOnB.push(p.data) }).ready;
    await onB.publish('chat:across', { from: 'b' });
    // The console's publish goes through node a's HTTP API with the session and its CSRF header.
    const res = await fetch(`${a.url}/v1/publish`, {
      method: 'POST',
      headers: { cookie: login.cookie, 'x-syncline-csrf': login.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'chat:across', data: { from: 'console' } }),
    });
    expect(res.status).toBe(200);
    await expect.poll(() => tail, { timeout: 10_000 }).toEqual([{ from: 'b' }, { from: 'console' }]);
    await expect.poll(() => gotOnB, { timeout: 10_000 }).toEqual([{ from: 'b' }, { from: 'console' }]);
  });
});
