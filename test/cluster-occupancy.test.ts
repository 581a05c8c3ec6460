import { RedisOccupancyStore } from '@syncline/redis';
import { type ChannelOccupancy, ClusterOccupancy, type OccupancyStore } from '@syncline/server';
import { prng } from '@syncline/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { defer, waitFor } from './helpers.js';

/** A node's local occupancy, driven by the test. */
class LocalOccupancy implements ChannelOccupancy {
  readonly #listeners = new Set<(channel: string, occupied: boolean) => void>();
  onOccupancy(listener: (channel: string, occupied: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  set(channel: string, occupied: boolean): void {
    for (const l of this.#listeners) l(channel, occupied);
  }
}

interface TestNode {
  readonly id: string;
  readonly local: LocalOccupancy;
  readonly cluster: ClusterOccupancy;
}

/** Cluster-wide changes as reported, over every node, in the order the one Redis connection answered them. */
type Reported = Array<{ node: string; channel: string; occupied: boolean }>;

async function setup(ids: readonly string[]): Promise<{
  redis: Redis;
  prefix: string;
  nodes: TestNode[];
  reported: Reported;
  cutOff: Set<string>;
}> {
  const prefix = testPrefix();
  const redis = new Redis(REDIS_URL);
  defer(() => redis.disconnect());
  const store = new RedisOccupancyStore({ redis, prefix, heartbeatMs: 100, nodeTtlMs: 500 });
  const reported: Reported = [];
  // Nodes in `cutOff` cannot reach Redis (their store calls fail).
  const cutOff = new Set<string>();
  const nodes = ids.map((id) => {
    const local = new LocalOccupancy();
    const reach =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      (...a: A): Promise<R> =>
        cutOff.has(id) ? Promise.reject(new Error('cut off')) : f(...a);
    const view: OccupancyStore = {
      set: reach((c: string, n: string, p: boolean) => store.set(c, n, p)),
      heartbeat: reach((n: string, now: number) => store.heartbeat(n, now)),
      expire: reach((now: number, ttl: number) => store.expire(now, ttl)),
      reset: reach((n: string) => store.reset(n)),
      heartbeatMs: store.heartbeatMs,
      nodeTtlMs: store.nodeTtlMs,
    };
    const cluster = new ClusterOccupancy(local, view, id, pino({ level: 'silent' }));
    cluster.onOccupancy((channel, occupied) => reported.push({ node: id, channel, occupied }));
    defer(() => cluster.close());
    return { id, local, cluster };
  });
  return { redis, prefix, nodes, reported, cutOff };
}

describe.runIf(redisService.available)('cluster-wide channel occupancy (Redis)', () => {
  it('reports strictly alternating changes, once each, converging to the nodes’ last local states', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    console.log(`occupancy flips seed ${seed} (rerun with SEED=${seed})`);
    const next = prng(seed);
    const { redis, prefix, nodes, reported } = await setup(['n1', 'n2', 'n3']);
    const channel = 'chat:flips';
    const state = new Map<string, boolean>();
    for (let i = 0; i < 300; i++) {
      const node = nodes[Math.floor(next() * nodes.length)] as TestNode;
      const want = !(state.get(node.id) ?? false);
      state.set(node.id, want);
      node.local.set(channel, want);
      if (next() < 0.3) await new Promise((r) => setImmediate(r));
    }
    const holders = [...state].filter(([, on]) => on).map(([id]) => id);
    await expect.poll(async () => (await redis.smembers(`${prefix}occ:c:{${channel}}`)).sort()).toEqual(holders.sort());
    await Promise.all(nodes.map((n) => n.cluster.close()));
    const changes = reported.map((r) => r.occupied);
    expect(changes).toEqual(changes.map((_, i) => i % 2 === 0));
    expect(changes.at(-1) ?? false).toBe(holders.length > 0);
  });

  it('a node expired while it still had subscribers (cut off for longer than the TTL) sets its channels again', async () => {
    const { nodes, reported, cutOff } = await setup(['paused', 'survivor']);
    const [paused] = nodes as [TestNode, TestNode];
    for (const n of nodes) n.cluster.start();
    paused.local.set('chat:p', true);
    await waitFor(() => reported.length === 1, 5_000, 'occupied');
    cutOff.add('paused');
    await waitFor(
      () => reported.length === 2,
      5_000,
      () => `vacated by the survivor, saw ${JSON.stringify(reported)}`,
    );
    cutOff.delete('paused');
    await waitFor(
      () => reported.length === 3,
      5_000,
      () => `occupied again, saw ${JSON.stringify(reported)}`,
    );
    expect(reported).toEqual([
      { node: 'paused', channel: 'chat:p', occupied: true },
      { node: 'survivor', channel: 'chat:p', occupied: false },
      { node: 'paused', channel: 'chat:p', occupied: true },
    ]);
  });
});
