/**
 * The console's reads on a cluster: two node processes on one Redis key
 * space and one PostgreSQL schema. A channel's detail, the channel list and
 * history read backwards answer the same on every node, with subscriber
 * counts over both; the document list and op log show what either node wrote.
 */
import { describe, expect, it } from 'vitest';
import { API_KEY, CLUSTER_MUTATORS, clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { freshSchema, postgresService } from './cluster/postgres-env.js';
import { redisService } from './cluster/redis-env.js';
import { defer } from './helpers.js';

/** GET on a node's HTTP API; fails the test on a non-200 answer. */
async function get(url: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

/** Reads `path` on `url` until `pick` of it equals `want` (counts are reported once a second). */
async function until(url: string, path: string, pick: (b: Record<string, unknown>) => unknown, want: unknown) {
  const deadline = Date.now() + 10_000;
  let seen: unknown;
  while (Date.now() < deadline) {
    seen = pick(await get(url, path));
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(seen, `${path} on ${url}`).toEqual(want);
}

describe.runIf(redisService.available && postgresService.available)('console reads on a cluster', () => {
  it('every node answers a channel detail, list and history with counts over both nodes', async () => {
    const schema = await freshSchema();
    defer(() => schema.drop());
    const { nodes } = await startCluster({ nodes: 2, postgresUrl: schema.url });
    const [a, b] = nodes.map((n) => n.url) as [string, string];
    const onA = await clusterClient([a], 'alice');
    const onB = await clusterClient([b], 'bob');
    await onA.subscribe('chat:ops').ready;
    await onB.subscribe('chat:ops').ready;
    await onB.subscribe('chat:other').ready;
    await onB.presence('room:ops').enter({ here: true });
    for (let i = 1; i <= 5; i++) expect((await httpPublish(a, 'chat:ops', { i })).status).toBe(200);

    const counts = (body: Record<string, unknown>) => [body.subscribers, body.present, body.offset, body.minOffset];
    for (const url of [a, b]) await until(url, '/v1/channels/chat:ops', counts, [2, 0, 5, 1]);
    const [detailA, detailB] = await Promise.all([get(a, '/v1/channels/chat:ops'), get(b, '/v1/channels/chat:ops')]);
    expect(detailB).toEqual(detailA);
    expect(detailA.namespace).toMatchObject({ name: 'chat', history: { size: 1000 } });
    await until(a, '/v1/channels/room:ops', counts, [0, 1, 0, 0]);

    await until(a, '/v1/channels?prefix=chat:&limit=1', (body) => body, {
      channels: [{ channel: 'chat:ops', subscribers: 2, present: 0 }],
      next: 'chat:ops',
    });
    await until(a, '/v1/channels?prefix=chat:&after=chat:ops', (body) => body, {
      channels: [{ channel: 'chat:other', subscribers: 1, present: 0 }],
    });

    const back = await get(b, '/v1/channels/chat:ops/history?before=5&limit=2');
    expect((back.publications as Array<{ offset: number; data: unknown }>).map((p) => p.data)).toEqual([
      { i: 3 },
      { i: 4 },
    ]);
    expect(back).toMatchObject({ epoch: detailA.epoch, prev: 3, next: 4 });
  }, 60_000);

  it('every node lists the documents and ops either node wrote', async () => {
    const schema = await freshSchema();
    defer(() => schema.drop());
    const { nodes } = await startCluster({ nodes: 2, postgresUrl: schema.url });
    const [a, b] = nodes.map((n) => n.url) as [string, string];
    const writers = [await clusterClient([a], 'ann'), await clusterClient([b], 'ben')];
    const docs = ['ctr:one', 'ctr:two'].map((name, i) => writers[i]?.doc(name, { mutators: CLUSTER_MUTATORS }));
    await Promise.all(docs.map((d) => d?.ready));
    await docs[0]?.mutate.add({ tag: 'a1' });
    await docs[1]?.mutate.add({ tag: 'b1' });
    await docs[1]?.mutate.add({ tag: 'b2' });
    for (const url of [a, b]) {
      const list = await get(url, '/v1/docs?namespace=ctr');
      expect((list.docs as Array<{ doc: string; version: number }>).map((d) => [d.doc, d.version])).toEqual([
        ['ctr:one', 1],
        ['ctr:two', 2],
      ]);
      const ops = await get(url, '/v1/docs/ctr:two/ops?limit=1');
      expect(ops).toMatchObject({ doc: 'ctr:two', ops: [{ version: 2, userId: 'ben' }], prev: 2 });
      expect(await get(url, '/v1/docs/ctr:two')).toMatchObject({ version: 2, schemaVersion: 1, clients: 1 });
    }
  }, 60_000);
});
