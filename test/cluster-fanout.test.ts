import type { ReceivedPublication } from '@syncline/client';
import { eventually } from '@syncline/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { REDIS_URL, redisService } from './cluster/redis-env.js';
import { describeValue, waitFor } from './helpers.js';

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe.runIf(redisService.available)('three node processes on Redis', () => {
  it('delivers publications from every node and the HTTP API to every subscriber exactly once, in offset order', async () => {
    const { nodes } = await startCluster({ nodes: 3 });
    const urls = nodes.map((n) => n.url);
    const channel = 'chat:fanout';
    const subscribers = await Promise.all(range(9).map((i) => clusterClient(urls, `sub-${i}`, i % 3)));
    const got = subscribers.map(() => [] as ReceivedPublication[]);
    await Promise.all(subscribers.map((c, i) => c.subscribe(channel, { onPublication: (p) => got[i]?.push(p) }).ready));
    const publishers = await Promise.all(range(3).map((i) => clusterClient(urls, `pub-${i}`, i)));
    const perClient = 40;
    const perHttp = 10;
    const acks = await Promise.all([
      ...publishers.flatMap((c, i) => range(perClient).map((j) => c.publish(channel, { from: `ws-${i}`, j }))),
      ...urls.flatMap((url, i) =>
        range(perHttp).map(async (j) => {
          const r = await httpPublish(url, channel, { from: `http-${i}`, j });
          expect(r.status).toBe(200);
          return r.body as { offset: number };
        }),
      ),
    ]);
    const total = 3 * perClient + 3 * perHttp;
    expect(acks.map((a) => a.offset).sort((a, b) => a - b)).toEqual(range(total));
    for (const [i, g] of got.entries()) {
      await waitFor(
        () => g.length >= total,
        20_000,
        () => `wanted offsets 1-${total} at subscriber ${i}, saw ${describeValue(g.map((p) => p.offset))}`,
      );
    }
    for (const g of got) {
      expect(g.map((p) => p.offset)).toEqual(range(total));
      // Each publisher's own publications arrive in its send order.
      for (const from of ['ws-0', 'ws-1', 'ws-2']) {
        const js = g.filter((p) => (p.data as { from: string }).from === from).map((p) => (p.data as { j: number }).j);
        expect(js).toEqual(range(perClient));
      }
    }
  }, 60_000);

  it('a node listens to a channel on Redis only while it has local subscribers', async () => {
    const { nodes, prefix } = await startCluster({ nodes: 2 });
    const urls = nodes.map((n) => n.url);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      /** How many Redis connections listen to each channel of this cluster (node bus channels aside). */
      const listeners = async (): Promise<Record<string, number>> => {
        const names = ((await redis.call('PUBSUB', 'CHANNELS', `${prefix}*`)) as string[]).filter((c) =>
          c.includes('chat:'),
        );
        if (names.length === 0) return {};
        const flat = (await redis.call('PUBSUB', 'NUMSUB', ...names)) as Array<string | number>;
        const out: Record<string, number> = {};
        for (let i = 0; i < flat.length; i += 2) out[String(flat[i]).slice(prefix.length)] = Number(flat[i + 1]);
        return out;
      };
      expect(await listeners()).toEqual({});
      // Two clients on node 0 and none on node 1: one Redis subscription, node 0's.
      const a = await clusterClient(urls, 'a', 0);
      const b = await clusterClient(urls, 'b', 0);
      const subA = a.subscribe('chat:only-here');
      const subB = b.subscribe('chat:only-here');
      await Promise.all([subA.ready, subB.ready]);
      const publisher = await clusterClient(urls, 'p', 1);
      await publisher.publish('chat:only-here', 'x');
      await eventually(
        async () => JSON.stringify(await listeners()) === JSON.stringify({ 'p:chat:only-here': 1 }),
        'node 0 listens',
        10_000,
      );
      // The node keeps listening while one local subscriber is left, and stops after the last.
      subA.unsubscribe();
      await publisher.publish('chat:only-here', 'y');
      expect(await listeners()).toEqual({ 'p:chat:only-here': 1 });
      subB.unsubscribe();
      await eventually(async () => Object.keys(await listeners()).length === 0, 'node 0 stopped listening', 10_000);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
