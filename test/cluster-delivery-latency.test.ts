/**
 * Delivery latency in a cluster (two node processes on Redis): a node times
 * the publications it receives from the broker for its own subscribers,
 * from their arrival there, whichever node published them; a node with no
 * subscriber of the channel times nothing.
 */
import { describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';
import { expectPlausibleLatency, scrapeDeliveryLatency, waitFor } from './helpers.js';

/** Count and sum of a node's `syncline_delivery_latency_seconds`, as its `/metrics` serves them. */
async function deliveryLatency(url: string): Promise<{ count: number; sum: number }> {
  const { count, sum } = await scrapeDeliveryLatency(url);
  return { count, sum };
}

describe.runIf(redisService.available)('delivery latency on Redis', () => {
  it('is recorded by the node whose subscribers receive the publications, not by the one that published them', async () => {
    const { nodes } = await startCluster({ nodes: 2 });
    const [publishing, delivering] = nodes.map((n) => n.url) as [string, string];
    const started = performance.now();
    const subscribers = await Promise.all([1, 2, 3].map((i) => clusterClient([delivering], `sub-${i}`)));
    const received = subscribers.map(() => 0);
    await Promise.all(
      subscribers.map(
        (c, i) =>
          c.subscribe('chat:bus', {
            onPublication: () => {
              received[i] = (received[i] ?? 0) + 1;
            },
          }).ready,
      ),
    );
    // One at a time, so arrivals are apart and several are sampled.
    let n = 0;
    const deadline = Date.now() + 20_000;
    while ((await deliveryLatency(delivering)).count < 5 && Date.now() < deadline) {
      for (let i = 0; i < 10; i++) expect((await httpPublish(publishing, 'chat:bus', { n: n++ })).status).toBe(200);
    }
    await waitFor(
      () => received.every((r) => r === n),
      10_000,
      () => `received ${received} of ${n}`,
    );
    const wallS = (performance.now() - started) / 1000;
    expectPlausibleLatency(await scrapeDeliveryLatency(delivering), n, wallS);
    expect(await deliveryLatency(publishing)).toEqual({ count: 0, sum: 0 });
  }, 60_000);
});
