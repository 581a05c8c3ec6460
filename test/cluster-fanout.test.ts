import type { ReceivedPublication } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';
import { waitFor } from './helpers.js';

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
      await waitFor(() => g.length >= total, 20_000, `subscriber ${i} receives all`);
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
});
