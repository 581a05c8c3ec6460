import type { ReceivedPublication, SubscribedEvent, Subscription } from '@syncline/client';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clusterClient, startCluster } from './cluster/cluster.js';
import { redisService, startPrivateRedis } from './cluster/redis-env.js';
import { tempDir, waitFor, waitForValue } from './helpers.js';

/** A position and what was published there, as a publisher or subscriber saw it. */
type Seen = { epoch: string; offset: number; j: number };

describe.runIf(redisService.available)('Redis restarted from an older snapshot', () => {
  it('never hands out an (epoch, offset) twice: the channel gets a new epoch, subscribers are told recovered: false', async () => {
    const redis = await startPrivateRedis({ dir: tempDir() });
    const { nodes } = await startCluster({ nodes: 2, redisUrl: redis.url, prefix: 'syncline-rollback:' });
    const urls = nodes.map((n) => n.url);
    const channel = 'chat:rollback';
    const subs = await Promise.all(Array.from({ length: 4 }, (_, i) => clusterClient(urls, `sub-${i}`, i % 2)));
    const got = subs.map(() => [] as ReceivedPublication[]);
    const lost = subs.map(() => [] as SubscribedEvent[]);
    const epochOf = subs.map(() => [] as string[]);
    const subscriptions: Subscription[] = [];
    await Promise.all(
      subs.map((c, i) => {
        const s = c.subscribe(channel, {
          onPublication: (p) => {
            got[i]?.push(p);
            epochOf[i]?.push(s.position?.epoch ?? '');
          },
        });
        s.on('subscribed', (e) => {
          if (e.recovered === false) lost[i]?.push(e);
        });
        subscriptions.push(s);
        return s.ready;
      }),
    );
    const publisher = await clusterClient(urls, 'pub', 1);
    const acked: Seen[] = [];
    const publish = async (j: number): Promise<void> => {
      for (;;) {
        try {
          const r = await publisher.publish(channel, { j }, { id: `j-${j}` });
          acked.push({ epoch: r.epoch, offset: r.offset, j });
          return;
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (!['unavailable', 'timeout', 'connection_lost', 'request_timeout'].includes(code)) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };

    // 10 publications, a snapshot, 10 more: the snapshot is 10 acknowledged publications behind.
    for (let j = 1; j <= 10; j++) await publish(j);
    const admin = new Redis(redis.url);
    await admin.save();
    admin.disconnect();
    for (let j = 11; j <= 20; j++) await publish(j);
    await waitForValue(
      () => got.map((g) => g.length),
      got.map(() => 20),
      10_000,
      'publication counts per subscriber (the first 20)',
    );
    const firstEpoch = acked[0]?.epoch as string;

    // Redis dies and comes back from the older snapshot (as after a restore or a lagging failover).
    await redis.kill();
    await redis.start();
    await publish(21);
    // Subscribers are told of the new epoch and resubscribe (refused with a retry hint while their
    // node still counts Redis as down); what was published before they are back is covered by their
    // recovered: false, what comes after must reach them.
    const epochAfter = acked.at(-1)?.epoch;
    await waitFor(
      () => subscriptions.every((s) => s.state === 'subscribed' && s.position?.epoch === epochAfter),
      20_000,
      () =>
        `wanted every subscriber subscribed in epoch ${epochAfter}, saw ${subscriptions.map((s) => `${s.state}@${s.position?.epoch}`).join(', ')}`,
    );
    for (let j = 22; j <= 30; j++) await publish(j);
    await waitFor(
      () => got.every((g) => g.some((p) => (p.data as { j: number }).j === 30)),
      20_000,
      () =>
        `wanted j 30 at every subscriber, saw last j ${got.map((g) => (g.at(-1)?.data as { j: number } | undefined)?.j).join(', ')}`,
    );

    // No position was handed out twice, and the channel's epoch changed.
    const positions = acked.map((a) => `${a.epoch}/${a.offset}`);
    expect(new Set(positions).size).toBe(positions.length);
    const after = acked.filter((a) => a.j > 20);
    expect(after.every((a) => a.epoch !== firstEpoch)).toBe(true);

    for (const [i, g] of got.entries()) {
      // One payload per position across everything this subscriber saw and every ack.
      const byPosition = new Map<string, number>(acked.map((a) => [`${a.epoch}/${a.offset}`, a.j]));
      for (const [k, p] of g.entries()) {
        const key = `${epochOf[i]?.[k]}/${p.offset}`;
        const j = (p.data as { j: number }).j;
        expect(byPosition.get(key) ?? j, `subscriber ${i} at ${key}`).toBe(j);
      }
      // Told that it may have missed publications, in the new epoch …
      const reset = lost[i]?.find((e) => e.epoch !== firstEpoch);
      expect(reset).toBeDefined();
      // … and received every acknowledged publication once: 1–20 before the restart, and every one
      // acknowledged in the new epoch past the position its resubscribe started from.
      const js = g.map((p) => (p.data as { j: number }).j);
      expect(js.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
      const owed = after.filter((a) => a.epoch === reset?.epoch && a.offset > (reset?.offset ?? 0)).map((a) => a.j);
      expect(owed).toContain(30);
      const rest = js.slice(20);
      expect(rest.filter((j) => owed.includes(j))).toEqual(owed);
      expect(new Set(js).size).toBe(js.length);
    }
  }, 60_000);
});
