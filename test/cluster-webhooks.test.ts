import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_EVENT_TYPES, type WebhookEvent } from '@syncline/server';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  API_KEY,
  CLUSTER_MUTATORS,
  type ClusterNode,
  clusterClient,
  startNode,
  writeClusterConfig,
} from './cluster/cluster.js';
import { freshSchema, postgresService } from './cluster/postgres-env.js';
import { redisService, testPrefix } from './cluster/redis-env.js';
import { defer, tempDir, waitFor } from './helpers.js';
import { startReceiver } from './webhooks-receiver.js';

const services = redisService.available && postgresService.available;
const HOOK_SECRET = 'cluster-webhooks-hook-secret-0123';
/** How long the receiver takes to answer: deliveries are in flight when a node dies. */
const RECEIVER_DELAY_MS = 250;

/** The outbox stream of an event (what orders it). */
function streamOf(e: WebhookEvent): string {
  if (e.type === 'doc.committed') return `d/${e.data.doc}`;
  if (e.type.startsWith('user.')) return `u/${e.data.user}`;
  return `c/${e.data.channel}`;
}

interface Deliveries {
  deliveries: { id: number; status: string; event: WebhookEvent }[];
}

interface Served {
  readonly stream: string;
  readonly start: number;
  readonly end: number;
}

/** Writes a config that adds webhooks (every event type; publications of `room:` channels) to the test cluster's. */
function writeWebhookConfig(dir: string, url: string, retryForMs?: number): string {
  const base = writeClusterConfig(dir);
  const file = join(dir, 'webhooks.config.mjs');
  const extra = {
    webhooks: [
      {
        url,
        secret: HOOK_SECRET,
        events: WEBHOOK_EVENT_TYPES.filter((t) => t !== 'publication'),
        ...(retryForMs === undefined ? {} : { retryForMs }),
      },
      // Publications come through the Redis feed, relayed by one node into the shared outbox.
      { url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['room'] },
    ],
    // Claims last timeoutMs + 5 s: the takeover after the kill comes ~6 s later.
    webhookDelivery: {
      timeoutMs: 1_000,
      retryBaseMs: 100,
      retryMaxMs: 400,
      pollIntervalMs: 100,
      maxBatchEvents: 2,
      concurrency: 2,
    },
  };
  writeFileSync(
    file,
    `import base from ${JSON.stringify(base)};\nexport default { ...base, ...${JSON.stringify(extra)} };\n`,
  );
  return file;
}

/** Three nodes sharing a fresh schema (documents and outbox) and a fresh Redis prefix; `db` reads the outbox. */
async function startWebhookCluster(
  receiverUrl: string,
  retryForMs?: number,
): Promise<{ db: pg.Pool; nodes: ClusterNode[]; nodeIds: string[] }> {
  const schema = await freshSchema();
  defer(() => schema.drop());
  const db = new pg.Pool({ connectionString: schema.url, max: 2 });
  defer(() => db.end());
  const dir = tempDir();
  const config = writeWebhookConfig(dir, receiverUrl, retryForMs);
  const prefix = testPrefix();
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await startNode(i, dir, config, prefix, { postgresUrl: schema.url }));
  const nodeIds = await Promise.all(
    nodes.map(async (n) => ((await (await fetch(`${n.url}/healthz`)).json()) as { node: string }).node),
  );
  return { db, nodes, nodeIds };
}

async function api<T>(url: string, path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}` } });
  return (await res.json()) as T;
}

describe.runIf(services)('webhooks across three nodes (Redis + the PostgreSQL outbox)', () => {
  it('loses nothing and keeps order per stream when the node sending is killed with -9 mid-batch', async () => {
    const receiver = await startReceiver();
    const served: Served[] = [];
    receiver.respond = async (events) => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, RECEIVER_DELAY_MS));
      // Per receiver entry: the publication entry's streams are its own (entry 0 never carries publications).
      const first = events[0] as WebhookEvent;
      const stream = `${first.type === 'publication' ? 'publications ' : ''}${streamOf(first)}`;
      served.push({ stream, start, end: Date.now() });
      return 200;
    };
    const { db, nodes, nodeIds } = await startWebhookCluster(receiver.url);
    const alive = new Set(nodes);
    const urls = () => [...alive].map((n) => n.url);

    // Clients on every node: connections, presence in three rooms, commits to three documents.
    const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const docs = [0, 1, 2].map((k) => `ctr:${run}-${k}`);
    const rooms = [0, 1, 2].map((k) => `room:${run}-${k}`);
    const clients = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => clusterClient(urls, `user-${i}`, i)));
    for (const [i, c] of clients.entries()) await c.presence(rooms[i % 3] as string).enter({ i });
    const replicas = clients.map((c, i) => c.doc(docs[i % 3] as string, { mutators: CLUSTER_MUTATORS }));
    await Promise.all(replicas.map((r) => r.ready));
    const writes = (round: number): Promise<unknown>[] => [
      ...replicas.flatMap((r, i) => Array.from({ length: 4 }, (_, k) => r.mutate.add({ tag: `${round}-${i}-${k}` }))),
      ...clients.flatMap((c, i) =>
        Array.from({ length: 4 }, (_, k) => c.publish(rooms[i % 3] as string, { tag: `${round}-${i}-${k}` })),
      ),
    ];
    await Promise.all(writes(0));

    // Mid-delivery: kill the node holding the most claims on streams that still have pending events.
    await waitFor(
      () => receiver.unique().length >= 10,
      15_000,
      () => `wanted 10 events, got ${receiver.unique().length}`,
    );
    const holders = await db.query<{ claimed_by: string; n: string }>(
      `SELECT c.claimed_by, COUNT(*) AS n FROM syncline_webhook_claims c
       WHERE EXISTS (SELECT 1 FROM syncline_webhook_outbox o
         WHERE o.endpoint = c.endpoint AND o.stream = c.stream AND o.status = 'pending')
       GROUP BY c.claimed_by ORDER BY n DESC`,
    );
    const owner = holders.rows[0]?.claimed_by;
    expect(owner, 'a node holds claims on pending streams when the kill comes').toBeDefined();
    const victim = nodes[nodeIds.findIndex((id) => owner?.startsWith(`${id}/`))] as ClusterNode;
    const pendingAtKill = Number(
      (await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM syncline_webhook_outbox')).rows[0]?.n,
    );
    // Commits in flight as it dies (some on the victim): each is stored once, with one event, wherever it lands.
    const inFlight = writes(1);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    alive.delete(victim);
    expect(pendingAtKill).toBeGreaterThan(0);

    // After the kill: the victim's clients come back elsewhere, their commits go through, some clients leave.
    await Promise.all(inFlight);
    for (const [i, c] of clients.entries()) if (i % 2 === 0) await c.presence(rooms[i % 3] as string).leave();

    const outbox = async (): Promise<number> =>
      Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM syncline_webhook_outbox')).rows[0]?.n);
    // The victim's claims lapse (timeoutMs + 5 s) and the survivors send what it held, from the oldest pending.
    await expect.poll(outbox, { timeout: 30_000, interval: 100, message: 'deliveries left in the outbox' }).toBe(0);

    const events = receiver.unique();
    // Every commit once, in order: versions 1..n of each document, each with one event id.
    for (const doc of docs) {
      const versions = events
        .filter((e) => e.type === 'doc.committed' && e.data.doc === doc)
        .map((e) => e.data.version);
      expect(versions, doc).toEqual(Array.from({ length: 16 }, (_, v) => v + 1));
    }
    // Every acknowledged publication once, in offset order per channel (16 per room: 2 clients × 4 × 2 rounds).
    await waitFor(
      () => receiver.unique().filter((e) => e.type === 'publication').length >= 48,
      15_000,
      () => `publication events: ${receiver.unique().filter((e) => e.type === 'publication').length} of 48`,
    );
    for (const room of rooms) {
      const offsets = receiver
        .unique()
        .filter((e) => e.type === 'publication' && e.data.channel === room)
        .map((e) => e.data.offset);
      expect(offsets, room).toEqual(Array.from({ length: 16 }, (_, v) => v + 1));
    }
    // Every user was reported connected; every presence entry joined; the leaves after the kill were reported.
    for (let i = 0; i < 6; i++) {
      expect(events.some((e) => e.type === 'user.connected' && e.data.user === `user-${i}`)).toBe(true);
      const mine = events
        .filter((e) => e.data.channel === rooms[i % 3] && e.data.user === `user-${i}`)
        .map((e) => e.type);
      expect(mine).toContain('presence.joined');
      if (i % 2 === 0) expect(mine).toContain('presence.left');
    }
    // One request per stream at a time over the whole cluster (no two nodes sending a stream at once).
    const byStream = new Map<string, Served[]>();
    for (const s of served) byStream.set(s.stream, [...(byStream.get(s.stream) ?? []), s]);
    for (const [stream, list] of byStream) {
      list.sort((a, b) => a.start - b.start);
      for (let k = 1; k < list.length; k++) {
        expect(
          (list[k] as Served).start,
          `${stream}: request ${k} started before the previous one ended`,
        ).toBeGreaterThanOrEqual((list[k - 1] as Served).end);
      }
    }
    // The survivors' API and metrics read the shared outbox: nothing failed, nothing pending.
    const survivor = [...alive][0] as ClusterNode;
    for (const status of ['failed', 'pending']) {
      const list = await api<Deliveries>(survivor.url, `/v1/webhooks/deliveries?status=${status}`);
      expect(list.deliveries).toEqual([]);
    }
    // The nodes report commits to the shared outbox: no start-up warning that doc.committed is not sent.
    expect(survivor.output()).not.toContain('doc.committed');
    const metrics = await (await fetch(`${survivor.url}/metrics`)).text();
    expect(metrics).toMatch(/^syncline_webhook_queue_depth\{[^}]*\} 0$/m);
  }, 60_000);

  it('lists the failed deliveries of every node on any node, and retries them from another', async () => {
    const receiver = await startReceiver();
    let failing = true;
    receiver.respond = (events) => (failing && events[0]?.type === 'doc.committed' ? 500 : 200);
    const { nodes } = await startWebhookCluster(receiver.url, 300);
    const [first, second, third] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const doc = `ctr:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const writer = await clusterClient([first.url], 'writer');
    const replica = writer.doc(doc, { mutators: CLUSTER_MUTATORS });
    await replica.ready;
    await Promise.all([0, 1, 2].map((k) => replica.mutate.add({ tag: `${k}` })));
    // Given up after retryForMs (300 ms): kept as failed in the shared outbox, seen from every node.
    const failedOn = async (node: ClusterNode) =>
      (await api<Deliveries>(node.url, '/v1/webhooks/deliveries?status=failed')).deliveries.filter(
        (d) => d.event.data.doc === doc,
      );
    await expect
      .poll(async () => (await failedOn(third)).map((d) => d.event.data.version), { timeout: 15_000 })
      .toEqual([1, 2, 3]);
    expect((await failedOn(second)).map((d) => d.id)).toEqual((await failedOn(third)).map((d) => d.id));
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/^syncline_webhook_failed_events\{[^}]*\} 3$/m);
    failing = false;
    for (const d of await failedOn(second)) {
      const retried = await api<{ delivery: { status: string } }>(
        second.url,
        `/v1/webhooks/deliveries/${d.id}/retry`,
        'POST',
      );
      expect(retried.delivery.status).toBe('pending');
    }
    const committed = () => receiver.unique().filter((e) => e.type === 'doc.committed' && e.data.doc === doc);
    await expect.poll(() => committed().map((e) => e.data.version), { timeout: 10_000 }).toEqual([1, 2, 3]);
    expect(await failedOn(first)).toEqual([]);
  }, 60_000);
});
