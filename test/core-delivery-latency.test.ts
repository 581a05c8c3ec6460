/**
 * Delivery latency (`syncline_delivery_latency_seconds`) over real
 * connections, on every transport and codec: publications delivered to
 * subscribers are timed from their arrival on the node to the write to the
 * subscribers' connections; the values are the real ones (above zero, below
 * the test's own time, and including a delay the node spends before
 * writing); the console's overview snapshot carries their p99.
 */
import type { SynclineClient } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, consoleLogin, consoleToken } from './admin-helpers.js';
import { client, expectPlausibleLatency, scrapeDeliveryLatency, startServer, waitFor, waitState } from './helpers.js';

/** Publications one at a time, as fast as they go. */
const FAST = { publishRatePerSec: 10_000, publishBurst: 10_000 };

/** The delivery latency histogram as `/metrics` serves it. */
const scrape = (server: SynclineServer) => scrapeDeliveryLatency(server.url);

/** Subscribers of `channel` and a publisher; resolves once all are subscribed. */
async function room(server: SynclineServer, channel: string, subscribers: number) {
  const received: number[] = Array.from({ length: subscribers }, () => 0);
  const clients: SynclineClient[] = [];
  for (let i = 0; i < subscribers; i++) {
    const c = await client(server, `reader-${i}`);
    await c.subscribe(channel, {
      onPublication: () => {
        received[i] = (received[i] ?? 0) + 1;
      },
    }).ready;
    clients.push(c);
  }
  const publisher = await client(server, 'writer');
  await waitState(publisher, 'connected');
  return { received, publisher };
}

/** Publishes one at a time (arrivals apart, so several are sampled) until `enough` says so; returns how many. */
async function publishUntil(
  publisher: SynclineClient,
  channel: string,
  enough: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 10; i++) await publisher.publish(channel, { n: n++ });
    if (await enough()) return n;
  }
  throw new Error(`not enough after ${n} publications in ${timeoutMs} ms`);
}

describe('delivery latency', () => {
  it('times publications to their subscribers with plausible values, and the overview snapshot carries the p99', async () => {
    const started = performance.now();
    const server = await startServer({ admin: { key: ADMIN_KEY }, limits: FAST });
    const { received, publisher } = await room(server, 'chat:latency', 3);
    expect((await scrape(server)).count).toBe(0);

    const n = await publishUntil(publisher, 'chat:latency', async () => (await scrape(server)).count >= 5);
    await waitFor(
      () => received.every((r) => r === n),
      5_000,
      () => `received ${received}`,
    );
    const wallS = (performance.now() - started) / 1000;
    const h = await scrape(server);
    // Sampled: some publications are timed, not every delivery.
    expectPlausibleLatency(h, n, wallS);
    // Every observation is below the test's own time: all are in the first bucket bound above it.
    const bound = Math.min(...[...h.buckets.keys()].filter((le) => le >= wallS));
    expect(h.buckets.get(bound)).toBe(h.count);

    // The console's overview snapshot carries the p99 of the interval (its own deliveries count too).
    const login = await consoleLogin(server);
    const snapshots: { p99DeliveryMs: number | null }[] = [];
    const consoleClient = await client(server, 'ignored', { getToken: () => consoleToken(server, login) });
    await consoleClient.subscribe('syncline-admin:overview', {
      onPublication: (p) => snapshots.push(p.data as { p99DeliveryMs: number | null }),
    }).ready;
    await publishUntil(publisher, 'chat:latency', async () => snapshots.some((s) => s.p99DeliveryMs !== null));
    const p99 = snapshots.find((s) => s.p99DeliveryMs !== null)?.p99DeliveryMs as number;
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(bound * 1000);
  });

  it('includes the time the node holds a publication before writing it to subscribers', async () => {
    const HOLD_MS = 30;
    const server = await startServer({
      limits: FAST,
      hooks: {
        // Runs after the broker handed the publication to fan-out and before
        // the node writes to its subscribers: every delivery waits this long.
        afterPublish: () => {
          const until = performance.now() + HOLD_MS;
          while (performance.now() < until) {
            // held
          }
        },
      },
    });
    const { publisher } = await room(server, 'chat:held', 2);
    const started = performance.now();
    await publishUntil(publisher, 'chat:held', async () => (await scrape(server)).count >= 3);
    const wallS = (performance.now() - started) / 1000;
    const h = await scrape(server);
    expect(h.count).toBeGreaterThanOrEqual(3);
    // None under 25 ms (the bucket below the hold), and the mean is at least the hold.
    expect(h.buckets.get(0.025)).toBe(0);
    expect(h.sum / h.count).toBeGreaterThanOrEqual(HOLD_MS / 1000);
    expect(h.sum / h.count).toBeLessThan(wallS);
  });
});
