import type { BrokerPublication } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import {
  dropPrefix,
  REDIS_URL,
  redisBroker,
  redisService,
  testPrefix,
  waitForNoSubscriber,
} from './cluster/redis-env.js';
import { startTcpProxy } from './cluster/tcp-proxy.js';
import { defer, describeValue, waitFor } from './helpers.js';

const history = { size: 100, ttlMs: 60_000 };

describe.runIf(redisService.available)('a node’s fan-out after its Redis connection came back', () => {
  it('reads back what it missed: publications after the last one it had, and the last one of a channel it had none of yet', async () => {
    const prefix = testPrefix();
    defer(() => dropPrefix(REDIS_URL, prefix));
    const redis = new URL(REDIS_URL);
    const proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    const publisher = await redisBroker(prefix);
    defer(() => publisher.close());
    // The subscribing node reaches Redis through a link the test cuts.
    const node = await redisBroker(prefix, `redis://127.0.0.1:${proxy.port}`);
    defer(() => node.close());

    const got = new Map<string, BrokerPublication[]>([
      ['chat:seen', []],
      ['chat:fresh', []],
    ]);
    for (const [channel, list] of got) await node.subscribe(channel, (p) => list.push(p));
    const publish = (channel: string, n: number) => publisher.publish({ channel, data: { n }, history });
    await publish('chat:seen', 1);
    await waitFor(() => (got.get('chat:seen')?.length ?? 0) === 1, 5_000, 'the first publication');

    proxy.cut('reset');
    // The node is away once Redis no longer counts its subscriptions.
    await waitForNoSubscriber([`${prefix}p:chat:seen`, `${prefix}p:chat:fresh`]);
    // Published while the node is away: pub/sub does not replay them.
    for (const n of [2, 3]) await publish('chat:seen', n);
    for (const n of [1, 2]) await publish('chat:fresh', n);
    expect(got.get('chat:fresh')).toEqual([]);
    proxy.restore();

    await waitFor(
      () => got.get('chat:seen')?.length === 3 && got.get('chat:fresh')?.length === 1,
      10_000,
      () => `saw ${describeValue([...got].map(([c, l]) => [c, l.map((p) => p.offset)]))}`,
    );
    expect(got.get('chat:seen')?.map((p) => [p.offset, p.data])).toEqual([
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 3 }],
    ]);
    // The node had nothing of this channel: it gets the last publication, and its subscribers see what they miss.
    expect(got.get('chat:fresh')?.map((p) => [p.offset, p.data])).toEqual([[2, { n: 2 }]]);

    // Live again, once each and in order.
    await publish('chat:fresh', 3);
    await publish('chat:seen', 4);
    await waitFor(() => got.get('chat:seen')?.length === 4 && got.get('chat:fresh')?.length === 2, 5_000, 'live');
    expect(got.get('chat:fresh')?.map((p) => p.offset)).toEqual([2, 3]);
    expect(got.get('chat:seen')?.map((p) => p.offset)).toEqual([1, 2, 3, 4]);
  }, 30_000);
});
