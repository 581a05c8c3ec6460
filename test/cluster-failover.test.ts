import type { ReceivedPublication, SubscribedEvent } from '@syncline/client';
import { eventually } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { type ClusterNode, clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';
import { describeValue, waitFor, waitForAtLeast } from './helpers.js';

interface Traffic {
  acked: number[];
  stop(): Promise<void>;
}

/** Publishes continuously from clients on `publisherNodes` and the HTTP API of the first one. */
async function traffic(nodes: ClusterNode[], publisherNodes: number[], channel: string): Promise<Traffic> {
  const urls = nodes.map((n) => n.url);
  const acked: number[] = [];
  let running = true;
  const publishers = await Promise.all(publisherNodes.map((i) => clusterClient(urls, `pub-${i}`, i)));
  const loops = publishers.map(async (c, i) => {
    for (let j = 0; running; j++) {
      const r = await c.publish(channel, { from: `ws-${i}`, j }, { id: `ws-${i}-${j}` });
      acked.push(r.offset);
      // 40/s per publisher: under the default per-connection publish limit (50/s).
      await new Promise((res) => setTimeout(res, 25));
    }
  });
  const http = (async () => {
    for (let j = 0; running; j++) {
      const r = await httpPublish(urls[publisherNodes[0] ?? 0] as string, channel, { from: 'http', j });
      if (r.status === 200) acked.push((r.body as { offset: number }).offset);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  return {
    acked,
    async stop() {
      running = false;
      await Promise.all([...loops, http]);
    },
  };
}

async function subscribers(nodes: ClusterNode[], alive: () => string[], channel: string, count: number) {
  const clients = await Promise.all(
    Array.from({ length: count }, (_, i) => clusterClient(alive, `sub-${i}`, i % nodes.length)),
  );
  const got = clients.map(() => [] as ReceivedPublication[]);
  const events = clients.map(() => [] as SubscribedEvent[]);
  await Promise.all(
    clients.map((c, i) => {
      const s = c.subscribe(channel, { onPublication: (p) => got[i]?.push(p) });
      s.on('subscribed', (e) => events[i]?.push(e));
      return s.ready;
    }),
  );
  return { clients, got, events };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe.runIf(redisService.available)('node failure and drain', () => {
  it('kill -9 of a node mid-traffic: its clients reconnect to the others and recover with no loss or duplication', async () => {
    const { nodes } = await startCluster({ nodes: 3 });
    let dead = -1;
    const alive = (): string[] => nodes.filter((n) => n.index !== dead).map((n) => n.url);
    const channel = 'chat:failover';
    const { clients, got, events } = await subscribers(nodes, alive, channel, 9);
    const onVictim = clients.filter((c) => c.nodeUrl() === nodes[2]?.url);
    expect(onVictim.length).toBeGreaterThan(0);
    const t = await traffic(nodes, [0, 1], channel);
    await waitForAtLeast(() => t.acked.length, 40, 20_000, 'acknowledged publishes before the kill');
    dead = 2;
    nodes[2]?.proc.kill('SIGKILL');
    await nodes[2]?.exited;
    const atKill = t.acked.length;
    await waitForAtLeast(() => t.acked.length, atKill + 40, 20_000, 'acknowledged publishes (40 after the kill)');
    await t.stop();
    const total = t.acked.length;
    expect([...t.acked].sort((a, b) => a - b)).toEqual(range(total));
    for (const [i, g] of got.entries())
      await waitFor(
        () => g.length >= total,
        20_000,
        () => `wanted offsets 1-${total} at subscriber ${i}, saw ${describeValue(g.map((p) => p.offset))}`,
      );
    for (const g of got) expect(g.map((p) => p.offset)).toEqual(range(total));
    for (const c of onVictim) expect(c.nodeUrl()).not.toBe(nodes[2]?.url);
    // Every resubscribe recovered fully.
    for (const e of events) expect(e.filter((x) => x.recovered === false)).toEqual([]);
  }, 60_000);

  it('SIGTERM drains a node under load: its clients move to the others with no loss, and it exits', async () => {
    const { nodes } = await startCluster({ nodes: 3, drainWindow: '1s' });
    let gone = -1;
    const alive = (): string[] => nodes.filter((n) => n.index !== gone).map((n) => n.url);
    const channel = 'chat:drain';
    const { clients, got, events } = await subscribers(nodes, alive, channel, 9);
    const onDrained = clients.filter((c) => c.nodeUrl() === nodes[2]?.url);
    expect(onDrained.length).toBeGreaterThan(0);
    const t = await traffic(nodes, [0, 1], channel);
    await waitForAtLeast(() => t.acked.length, 30, 20_000, 'acknowledged publishes before the drain');
    gone = 2;
    const ready = await fetch(`${nodes[2]?.url}/readyz`);
    expect(ready.status).toBe(200);
    nodes[2]?.proc.kill('SIGTERM');
    await eventually(async () => (await fetch(`${nodes[2]?.url}/readyz`).catch(() => undefined))?.status !== 200);
    expect(await nodes[2]?.exited).toBe(0);
    const atExit = t.acked.length;
    await waitForAtLeast(() => t.acked.length, atExit + 30, 20_000, 'acknowledged publishes (30 after the drain)');
    await t.stop();
    const total = t.acked.length;
    expect([...t.acked].sort((a, b) => a - b)).toEqual(range(total));
    for (const [i, g] of got.entries())
      await waitFor(
        () => g.length >= total,
        20_000,
        () => `wanted offsets 1-${total} at subscriber ${i}, saw ${describeValue(g.map((p) => p.offset))}`,
      );
    for (const g of got) expect(g.map((p) => p.offset)).toEqual(range(total));
    for (const c of onDrained) expect(c.nodeUrl()).not.toBe(nodes[2]?.url);
    for (const e of events) expect(e.filter((x) => x.recovered === false)).toEqual([]);
  }, 60_000);
});
