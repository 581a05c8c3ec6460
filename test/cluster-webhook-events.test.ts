import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectRedisCluster, type RedisBroker, type RedisClusterParts } from '@syncline/redis';
import { publicationEventId, type SynclineServer, type WebhookEvent } from '@syncline/server';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { API_KEY, clusterClient, httpPublish, startNode } from './cluster/cluster.js';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { client, defer, SECRET, startServer, TEST_NAMESPACES, tempDir, waitFor, waitState } from './helpers.js';
import { type Receiver, startReceiver } from './webhooks-receiver.js';

const HOOK_SECRET = 'cluster-webhooks-secret-0123456789';
const EVENTS = ['publication', 'channel.occupied', 'channel.vacated'] as const;

interface Node {
  readonly server: SynclineServer;
  readonly parts: RedisClusterParts;
}

/** A node on the machine's Redis under `prefix`, in this process, sending events to `receiver`. */
async function node(prefix: string, receiver: Receiver, database?: string): Promise<Node> {
  const parts = await connectRedisCluster({
    url: REDIS_URL,
    prefix,
    publicationFeed: { leaseMs: 1_000, pollIntervalMs: 50, batchSize: 10 },
    occupancy: { heartbeatMs: 200, nodeTtlMs: 1_000 },
  });
  const server = await startServer({
    broker: parts.broker,
    presence: { store: parts.presence.store, fanout: parts.presence.fanout },
    revocations: parts.revocations,
    channelCounts: parts.channelCounts,
    occupancy: parts.occupancy,
    publicationFeed: parts.publicationFeed,
    ...(database === undefined ? {} : { database }),
    webhookDelivery: { retryBaseMs: 50, retryMaxMs: 200, pollIntervalMs: 50 },
    webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: [...EVENTS], namespaces: ['chat'] }],
  });
  return { server, parts };
}

function ofType(receiver: Receiver, type: string, channel: string): WebhookEvent[] {
  return receiver.unique().filter((e) => e.type === type && e.data.channel === channel);
}

const offsets = (events: readonly WebhookEvent[]): number[] => events.map((e) => Number(e.data.offset));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.runIf(redisService.available)('webhook events of a cluster on Redis', () => {
  it('sends each publication once, in offset order, with its payload, whichever node it went through', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const nodes = [await node(prefix, receiver), await node(prefix, receiver), await node(prefix, receiver)];
    const channel = 'chat:feed';
    const c = await client(nodes[1]?.server as SynclineServer, 'alice');
    await waitState(c, 'connected');
    for (let i = 0; i < 30; i++) {
      if (i === 7) await c.publish(channel, { i, by: 'alice' });
      else await nodes[i % 3]?.server.publish(channel, { i });
      await nodes[i % 3]?.server.publish('small:not-listed', { i });
    }
    // A resend with the same idempotency key (through another node) stores nothing: no second event.
    for (const n of nodes) await n.server.publish(channel, { i: 30 }, { key: 'once' });
    await waitFor(
      () => ofType(receiver, 'publication', channel).length >= 31,
      15_000,
      () => `wanted 31 publication events, got offsets ${offsets(ofType(receiver, 'publication', channel))}`,
    );
    const events = ofType(receiver, 'publication', channel);
    expect(offsets(events)).toEqual(range(1, 31));
    expect(receiver.unique().filter((e) => e.type === 'publication' && e.data.channel !== channel)).toEqual([]);
    const epoch = String(events[0]?.data.epoch);
    events.slice(0, 30).forEach((e, i) => {
      expect(e.id).toBe(publicationEventId(channel, epoch, i + 1));
      expect(e.data).toEqual({
        channel,
        offset: i + 1,
        epoch,
        user: i === 7 ? 'alice' : null,
        data: i === 7 ? { i, by: 'alice' } : { i },
      });
    });
    expect(nodes.filter((n) => n.parts.publicationFeed.relaying)).toHaveLength(1);
  });

  it('another node takes the relay over when the relaying one closes mid-stream: nothing is lost', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const dir = tempDir();
    const dbs = [0, 1, 2].map((i) => join(dir, `node-${i}.db`));
    const nodes = await Promise.all(dbs.map((db) => node(prefix, receiver, db)));
    await waitFor(() => nodes.some((n) => n.parts.publicationFeed.relaying), 5_000, 'a node to hold the relay');
    const relay = nodes.findIndex((n) => n.parts.publicationFeed.relaying);
    const others = nodes.filter((_, i) => i !== relay);
    const channel = 'chat:takeover';
    const total = 60;
    let closing: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      await others[i % 2]?.server.publish(channel, { i });
      if (i === 20) closing = nodes[relay]?.server.close();
      await new Promise((r) => setTimeout(r, 5));
    }
    await closing;
    await waitFor(() => others.some((n) => n.parts.publicationFeed.relaying), 5_000, 'another node to take over');
    // What the closed node had written to its outbox but not sent yet goes out when it starts again.
    await node(prefix, receiver, dbs[relay]);
    await waitFor(
      () => ofType(receiver, 'publication', channel).length >= total,
      20_000,
      () => `wanted ${total} events, got offsets ${offsets(ofType(receiver, 'publication', channel))}`,
    );
    expect(offsets(ofType(receiver, 'publication', channel)).sort((a, b) => a - b)).toEqual(range(1, total));
  });

  it('a relay cut off from Redis is replaced once its lease expires: nothing is lost', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const nodes = [await node(prefix, receiver), await node(prefix, receiver)];
    await waitFor(() => nodes.some((n) => n.parts.publicationFeed.relaying), 5_000, 'a node to hold the relay');
    const relay = nodes.find((n) => n.parts.publicationFeed.relaying) as Node;
    const other = nodes.find((n) => n !== relay) as Node;
    const channel = 'chat:cut-off';
    for (let i = 0; i < 10; i++) await other.server.publish(channel, { i });
    // The relay loses its connection for good (no release, no renewal), as a killed node would.
    (relay.parts.broker as RedisBroker).redis.disconnect();
    for (let i = 10; i < 40; i++) await other.server.publish(channel, { i });
    await waitFor(() => other.parts.publicationFeed.relaying, 5_000, 'the other node to take over');
    await waitFor(
      () => ofType(receiver, 'publication', channel).length >= 40,
      10_000,
      () => `wanted 40 events, got offsets ${offsets(ofType(receiver, 'publication', channel))}`,
    );
    expect(offsets(ofType(receiver, 'publication', channel)).sort((a, b) => a - b)).toEqual(range(1, 40));
  });

  it('counts and reports feed entries trimmed before a relay read them', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const errors: unknown[] = [];
    const parts = await connectRedisCluster({
      url: REDIS_URL,
      prefix,
      publicationFeed: { maxLen: 10, pollIntervalMs: 50 },
      onError: (err) => errors.push(err),
    });
    const server = await startServer({
      broker: parts.broker,
      publicationFeed: parts.publicationFeed,
      webhookDelivery: { pollIntervalMs: 50 },
      webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['chat'] }],
    });
    const channel = 'chat:trimmed';
    await server.publish(channel, { i: 0 });
    await waitFor(() => ofType(receiver, 'publication', channel).length === 1, 5_000, 'the first event');
    // Another holder keeps the lease while far more is published than the feed holds.
    const redis = new Redis(REDIS_URL);
    defer(() => redis.disconnect());
    await redis.set(`${prefix}webhooks:feed:lease`, 'elsewhere', 'PX', 60_000);
    const total = 400;
    for (let i = 1; i < total; i++) await server.publish(channel, { i });
    await redis.del(`${prefix}webhooks:feed:lease`);
    await waitFor(
      () =>
        parts.publicationFeed.lost > 0 &&
        ofType(receiver, 'publication', channel).length + parts.publicationFeed.lost === total,
      10_000,
      () => `got ${ofType(receiver, 'publication', channel).length} events, lost ${parts.publicationFeed.lost}`,
    );
    expect(String(errors[0])).toMatch(/entries were trimmed before a relay read them/);
    const metrics = await server.metrics.registry.metrics();
    expect(metrics).toContain(
      `syncline_webhook_events_dropped_total{node="${server.core.nodeId}"} ${parts.publicationFeed.lost}`,
    );
  });

  it('a channel with subscribers on two nodes is occupied once and vacated once, when the last one leaves', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const [a, b] = [await node(prefix, receiver), await node(prefix, receiver)] as [Node, Node];
    const channel = 'chat:occupancy';
    const redis = new Redis(REDIS_URL);
    defer(() => redis.disconnect());
    const holders = (): Promise<number> => redis.scard(`${prefix}occ:c:{${channel}}`);

    const ca = await client(a.server, 'ann');
    const cb = await client(b.server, 'bob');
    const sa = ca.subscribe(channel);
    await sa.ready;
    await waitFor(() => ofType(receiver, 'channel.occupied', channel).length === 1, 5_000, 'channel.occupied');
    const sb = cb.subscribe(channel);
    await sb.ready;
    await expect.poll(holders, { timeout: 5_000 }).toBe(2);
    sa.unsubscribe();
    await expect.poll(holders, { timeout: 5_000 }).toBe(1);
    sb.unsubscribe();
    await waitFor(() => ofType(receiver, 'channel.vacated', channel).length === 1, 5_000, 'channel.vacated');
    expect(receiver.unique().filter((e) => e.data.channel === channel && e.type !== 'publication')).toMatchObject([
      { type: 'channel.occupied', data: { channel } },
      { type: 'channel.vacated', data: { channel } },
    ]);
  });

  it('the channels of a node that went silent are vacated by a surviving node', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const [a, b] = [await node(prefix, receiver), await node(prefix, receiver)] as [Node, Node];
    const channel = 'chat:silent';
    const ca = await client(a.server, 'ann');
    await ca.subscribe(channel).ready;
    await waitFor(() => ofType(receiver, 'channel.occupied', channel).length === 1, 5_000, 'channel.occupied');
    // Node a loses Redis for good: it stops heartbeating, as a dead node does.
    await a.parts.broker.close();
    await waitFor(() => ofType(receiver, 'channel.vacated', channel).length === 1, 5_000, 'channel.vacated by b');
    // The subscriber is still there on a: the vacancy came from b expiring the silent node.
    expect(a.server.channels.localCounts().get(channel)).toBe(1);
    expect(b.server.channels.localCounts().get(channel)).toBeUndefined();
  });

  it('node processes: a relay killed with SIGKILL is replaced, and its channels are vacated by the survivor', async () => {
    const receiver = await startReceiver();
    const prefix = testPrefix();
    const dir = tempDir();
    const config = join(dir, 'syncline.config.mjs');
    const settings = {
      auth: { secret: SECRET },
      apiKey: API_KEY,
      namespaces: TEST_NAMESPACES,
      webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: [...EVENTS], namespaces: ['chat'] }],
      webhookDelivery: { retryBaseMs: 50, retryMaxMs: 200, pollIntervalMs: 50 },
    };
    writeFileSync(config, `export default ${JSON.stringify(settings)};\n`);
    const dataDir = join(dir, 'node-0');
    const first = await startNode(0, dir, config, prefix, { dataDir });
    const channel = 'chat:killed';
    expect((await httpPublish(first.url, channel, { i: 0 })).status).toBe(200);
    // The first node holds the relay: it delivered before the second one started.
    await waitFor(() => ofType(receiver, 'publication', channel).length === 1, 10_000, 'the first event');
    const second = await startNode(1, dir, config, prefix);
    const c = await clusterClient([first.url], 'ann');
    await c.subscribe(channel).ready;
    await waitFor(() => ofType(receiver, 'channel.occupied', channel).length === 1, 5_000, 'channel.occupied');

    const total = 41;
    for (let i = 1; i < 21; i++) expect((await httpPublish(second.url, channel, { i })).status).toBe(200);
    first.proc.kill('SIGKILL');
    await first.exited;
    for (let i = 21; i < total; i++) expect((await httpPublish(second.url, channel, { i })).status).toBe(200);
    // The killed node's channel is vacated by the survivor once the node is silent past the TTL (10 s).
    await waitFor(() => ofType(receiver, 'channel.vacated', channel).length === 1, 20_000, 'channel.vacated');
    // Events the killed node had written but not sent go out when it runs again on its data.
    await startNode(0, dir, config, prefix, { dataDir });
    await waitFor(
      () => ofType(receiver, 'publication', channel).length >= total,
      20_000,
      () => `wanted ${total} events, got offsets ${offsets(ofType(receiver, 'publication', channel))}`,
    );
    expect(offsets(ofType(receiver, 'publication', channel)).sort((a, b) => a - b)).toEqual(range(1, total));
    expect(ofType(receiver, 'channel.occupied', channel)).toHaveLength(1);
    expect(second.output()).not.toMatch(/webhooks: `publication` events need/);
  }, 60_000);
});
