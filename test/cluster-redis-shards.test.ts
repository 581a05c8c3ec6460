import type { ReceivedPublication } from '@syncline/client';
import { pickShard, shardName } from '@syncline/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, nodeApi, startCluster } from './cluster/cluster.js';
import {
  redisClusterService,
  startRedisInstances,
  type TestRedisInstances,
  withNode,
} from './cluster/redis-cluster-env.js';
import { describeValue, waitFor } from './helpers.js';

const CHANNELS = 12;
const PER_CHANNEL = 5;

describe.runIf(redisClusterService.available)('two node processes on three independent Redis instances', () => {
  let instances: TestRedisInstances | undefined;
  beforeAll(async () => {
    instances = await startRedisInstances(3);
  }, 30_000);
  afterAll(async () => {
    await instances?.stop();
  });

  it('spreads channels over the instances by their names; every publication reaches every subscriber once, in order', async () => {
    const urls = instances?.urls ?? [];
    const prefix = `syncline-test-shards-${Date.now().toString(36)}:`;
    // The nodes list the instances in different orders: placement does not depend on it.
    const { nodes } = await startCluster({ nodes: 1, redisUrls: urls, prefix });
    const second = await startCluster({ nodes: 1, redisUrls: [...urls].reverse(), prefix });
    const nodeUrls = [nodes[0]?.url as string, second.nodes[0]?.url as string];
    const channels = Array.from({ length: CHANNELS }, (_, i) => `chat:spread-${i}`);
    const sub = await clusterClient(nodeUrls, 'sub', 0);
    const got = new Map<string, ReceivedPublication[]>(channels.map((c) => [c, []]));
    await Promise.all(channels.map((c) => sub.subscribe(c, { onPublication: (p) => got.get(c)?.push(p) }).ready));
    for (let j = 1; j <= PER_CHANNEL; j++) {
      await Promise.all(
        channels.map(async (c) => {
          const r = await httpPublish(nodeUrls[1] as string, c, { j });
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          expect(r.body.offset).toBe(j);
        }),
      );
    }
    for (const [c, list] of got) {
      await waitFor(
        () => list.length >= PER_CHANNEL,
        10_000,
        () => `${c}: wanted offsets 1-${PER_CHANNEL}, saw ${describeValue(list.map((p) => p.offset))}`,
      );
      expect(list.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5]);
    }
    // Each channel's keys are on the instance its name hashes to, and only there.
    const names = urls.map(shardName);
    const holders = new Set<number>();
    for (const c of channels) {
      const want = pickShard(c, names);
      holders.add(want);
      for (const [i, url] of urls.entries()) {
        const exists = await withNode(new URL(url).host, (r) => r.exists(`${prefix}{${c}}:m`));
        expect(exists, `${c} on instance ${i} (hashes to ${want})`).toBe(i === want ? 1 : 0);
      }
    }
    expect(holders.size).toBeGreaterThan(1);
    // Node-wide state is on one instance for both lists: node 1 sums node 0's subscriber counts.
    let seen: unknown;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      seen = (await nodeApi(nodeUrls[1] as string, 'GET', `/v1/channels/${channels[0]}`)).subscribers;
      if (seen === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen, 'subscribers of the channel as node 1 counts them').toBe(1);
  }, 60_000);
});
