import type { ReceivedPublication, SubscribedEvent } from '@syncline/client';
import { describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { redisService, startPrivateRedis } from './cluster/redis-env.js';
import { waitFor } from './helpers.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(redisService.available)('Redis restart under traffic', () => {
  it('publishers get retryable errors, nothing acknowledged is lost, subscribers are told recovered: false', async () => {
    const redis = await startPrivateRedis();
    const { nodes } = await startCluster({ nodes: 3, redisUrl: redis.url, prefix: 'syncline-restart:' });
    const urls = nodes.map((n) => n.url);
    const channel = 'chat:restart';
    const subs = await Promise.all(Array.from({ length: 6 }, (_, i) => clusterClient(urls, `sub-${i}`, i % 3)));
    const got = subs.map(() => [] as ReceivedPublication[]);
    const resets = subs.map(() => [] as Array<{ at: number; event: SubscribedEvent }>);
    await Promise.all(
      subs.map((c, i) => {
        const s = c.subscribe(channel, { onPublication: (p) => got[i]?.push(p) });
        s.on('subscribed', (e) => {
          if (e.recovered === false) resets[i]?.push({ at: got[i]?.length ?? 0, event: e });
        });
        return s.ready;
      }),
    );
    const publisher = await clusterClient(urls, 'pub', 1);

    // Phase 1: normal traffic, all delivered.
    for (let j = 0; j < 20; j++) await publisher.publish(channel, { phase: 1, j });
    await waitFor(() => got.every((g) => g.length === 20), 10_000, 'phase 1 delivered');

    // Phase 2: keep publishing over WebSocket and HTTP while Redis dies and comes back (empty).
    const errors: string[] = [];
    const httpStatuses: number[] = [];
    const ackedAfter: Array<{ offset: number; epoch: string }> = [];
    let restarted = false;
    let running = true;
    const wsLoop = (async () => {
      for (let j = 0; running; j++) {
        try {
          const r = await publisher.publish(channel, { phase: 2, j }, { id: `p2-${j}` });
          if (restarted) ackedAfter.push(r);
        } catch (err) {
          errors.push((err as { code: string }).code);
        }
        await pause(15);
      }
    })();
    const httpLoop = (async () => {
      for (let j = 0; running; j++) {
        const r = await httpPublish(urls[2] as string, channel, { phase: 2, http: j }).catch(() => undefined);
        if (r) {
          httpStatuses.push(r.status);
          if (r.status !== 200) errors.push(String((r.body.error as { code?: string } | undefined)?.code));
        }
        await pause(25);
      }
    })();
    await pause(100);
    await redis.kill();
    await waitFor(() => errors.length >= 4, 15_000, 'publishes fail while Redis is down');
    await redis.start();
    restarted = true;
    await waitFor(() => ackedAfter.length >= 20, 20_000, 'publishes succeed again');
    running = false;
    await Promise.all([wsLoop, httpLoop]);

    expect(errors.length).toBeGreaterThan(0);
    for (const code of errors) expect(['unavailable', 'timeout']).toContain(code);
    expect(httpStatuses).toContain(503);

    const marker = await publisher.publish(channel, { marker: true });
    await waitFor(() => got.every((g) => g.some((p) => (p.data as { marker?: boolean }).marker)), 20_000, 'marker');
    const newEpoch = marker.epoch;
    for (const [i, g] of got.entries()) {
      // Everything acknowledged before the outage arrived, once and in order.
      expect(g.slice(0, 20).map((p) => p.offset)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
      // The subscriber was told it lost publications when the epoch changed …
      const reset = resets[i]?.find((r) => r.event.epoch === newEpoch);
      expect(reset).toBeDefined();
      // … and from there on received the new epoch gap-free up to the marker.
      const after = g.slice(reset?.at ?? 0).map((p) => p.offset);
      const from = reset?.event.offset ?? 0;
      expect(after).toEqual(Array.from({ length: marker.offset - from }, (_, k) => from + k + 1));
      // Acknowledged publications after the restart past the resubscribe point all arrived.
      const seen = new Set(after);
      for (const a of ackedAfter) if (a.epoch === newEpoch && a.offset > from) expect(seen.has(a.offset)).toBe(true);
    }
  }, 60_000);
});

describe.runIf(redisService.available)('subscribing while Redis is down', () => {
  it('keeps retrying a subscribe refused for a temporary reason and succeeds once Redis is back', async () => {
    const redis = await startPrivateRedis();
    const { nodes } = await startCluster({ nodes: 1, redisUrl: redis.url, prefix: 'syncline-down:' });
    const c = await clusterClient([nodes[0]?.url as string], 'late');
    await waitFor(() => c.state === 'connected', 10_000, 'connected');
    await redis.kill();
    const got: ReceivedPublication[] = [];
    const sub = c.subscribe('chat:late', { onPublication: (p) => got.push(p) });
    let ready = false;
    void sub.ready.then(() => {
      ready = true;
    });
    // Longer than the broker's command timeout (5 s): the node refuses the subscribe with a retryable error.
    await pause(6_500);
    expect(ready).toBe(false);
    expect(sub.state).not.toBe('unsubscribed');
    await redis.start();
    await waitFor(() => ready, 20_000, 'subscribed after Redis came back');
    const p = await clusterClient([nodes[0]?.url as string], 'pub');
    await p.publish('chat:late', 'hello');
    await waitFor(() => got.length === 1, 10_000, 'delivered');
  }, 60_000);
});
