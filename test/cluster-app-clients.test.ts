/**
 * `GET /v1/app/clients`: connected clients by app version, summed over the
 * nodes of a cluster (two nodes in this process on one Redis key space),
 * each version with the verdict of the settings in force; bounded by
 * `limit`, refused out of range.
 */
import { connectRedisCluster } from '@syncline/redis';
import type { ClientVersionList, SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { redisService, testPrefix } from './cluster/redis-env.js';
import { client, waitState } from './helpers.js';
import { api, apiServer, code } from './http-api-helpers.js';

async function node(prefix: string, nodeId: string): Promise<SynclineServer> {
  const parts = await connectRedisCluster({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix });
  return apiServer({ nodeId, broker: parts.broker, revocations: parts.revocations });
}

async function connect(server: SynclineServer, user: string, version: string | undefined): Promise<void> {
  const c = await client(server, user, version === undefined ? {} : { app: { version } });
  await waitState(c, 'connected');
}

async function clients(server: SynclineServer, query = ''): Promise<ClientVersionList> {
  const r = await api(server, 'GET', `/v1/app/clients${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as ClientVersionList;
}

describe.runIf(redisService.available)('connected clients by app version across nodes (Redis)', () => {
  it('sums every node, gives each version its verdict, follows an announce and bounds the list', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'versions-a');
    const b = await node(prefix, 'versions-b');
    // 1.0.0: two on a, one on b; 2.1.0: one on b; 0.9.0: one on a; one client sends no version.
    await connect(a, 'ann', '1.0.0');
    await connect(a, 'al', '1.0.0');
    await connect(b, 'bo', '1.0.0');
    await connect(b, 'bea', '2.1.0');
    await connect(a, 'old', '0.9.0');
    await connect(b, 'anon', undefined);

    const before = await clients(a);
    expect(before).toEqual({
      versions: [
        { version: '1.0.0', connections: 3, status: 'none' },
        { version: null, connections: 1, status: 'none' },
        { version: '0.9.0', connections: 1, status: 'none' },
        { version: '2.1.0', connections: 1, status: 'none' },
      ],
      connections: 6,
      unlisted: 0,
      byStatus: { none: 6, available: 0, required: 0 },
      nodes: { answered: 2, expected: 2 },
      partial: false,
    });

    // Announced on b: every node judges again, and the list on a says so.
    const announced = await api(b, 'POST', '/v1/app/announce', {
      version: '2.1.0',
      recommendedClientVersion: '2.0.0',
      minClientVersion: '1.0.0',
    });
    expect(announced.status).toBe(200);
    await expect
      .poll(async () => (await clients(a)).versions.map((v) => `${v.version}:${v.connections}:${v.status}`), {
        timeout: 5_000,
      })
      .toEqual(['1.0.0:3:available', 'null:1:none', '0.9.0:1:required', '2.1.0:1:none']);
    const after = await clients(b, '?limit=2');
    expect(after.versions.map((v) => v.version)).toEqual(['1.0.0', null]);
    expect(after).toMatchObject({ connections: 6, unlisted: 2, byStatus: { none: 2, available: 3, required: 1 } });

    // Out of range, not a number, an unknown parameter: refused before anything is counted.
    for (const query of ['?limit=0', '?limit=1001', '?limit=x', '?limit=-1', '?after=1.0.0']) {
      const r = await api(a, 'GET', `/v1/app/clients${query}`);
      expect(r.status, query).toBe(400);
      expect(code(r), query).toBe('invalid_request');
    }
    // The API key is needed.
    expect((await api(a, 'GET', '/v1/app/clients', undefined, { key: null })).status).toBe(401);
  });
});
