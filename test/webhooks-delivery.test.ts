import type { WebhookEvent } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { waitFor } from './helpers.js';
import { api, apiServer } from './http-api-helpers.js';
import { startReceiver } from './webhooks-receiver.js';

const SECRET = 'delivery-test-secret-0123456789ab';

/** Offsets per channel, in the order the receiver took them. */
function offsetsByChannel(events: readonly WebhookEvent[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of events) {
    const channel = String(e.data.channel);
    const list = out[channel] ?? [];
    list.push(Number(e.data.offset));
    out[channel] = list;
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe('webhook delivery', () => {
  it('delivers every event once after dedup and in order per channel when the receiver is down 30 s, then back', async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const server = await apiServer({
      webhookDelivery: { retryBaseMs: 250, retryMaxMs: 2_000, pollIntervalMs: 100, maxBatchEvents: 7 },
      webhooks: [{ url: receiver.url, secret: SECRET, events: ['publication'], namespaces: ['chat'] }],
    });
    const channels = ['chat:one', 'chat:two', 'chat:three'];
    const perChannel = 30;
    const downSince = Date.now();
    // Publications keep coming while the receiver is down.
    for (let i = 0; i < perChannel; i++) {
      await Promise.all(channels.map((ch) => server.publish(ch, { i })));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 8_000));
    }
    await waitFor(() => Date.now() - downSince >= 30_000, 35_000, 'the receiver to have been down 30 s');
    const queued = await api(server, 'GET', '/v1/webhooks/deliveries?status=pending&limit=1000');
    expect((queued.body.deliveries as unknown[]).length).toBe(channels.length * perChannel);
    await receiver.listen();

    await waitFor(
      () => receiver.unique().length === channels.length * perChannel,
      20_000,
      () => `got ${receiver.unique().length} of ${channels.length * perChannel} events`,
    );
    const unique = receiver.unique();
    expect(new Set(unique.map((e) => `${e.data.channel}@${e.data.offset}`)).size).toBe(unique.length);
    const byChannel = offsetsByChannel(unique);
    for (const ch of channels) expect(byChannel[ch]).toEqual(range(perChannel));
    // Batches stay within maxBatchEvents.
    expect(Math.max(...receiver.requests.map((r) => r.events.length))).toBeLessThanOrEqual(7);
    const left = await api(server, 'GET', '/v1/webhooks/deliveries?status=pending');
    expect(left.body.deliveries).toEqual([]);
  }, 90_000);

  it('keeps other channels flowing while one channel is answered 500, lists its failed events and re-delivers them', async () => {
    const receiver = await startReceiver();
    receiver.respond = (events) => (events.some((e) => e.data.channel === 'chat:bad') ? 500 : 200);
    const server = await apiServer({
      webhookDelivery: { retryBaseMs: 100, retryMaxMs: 300, pollIntervalMs: 50 },
      webhooks: [
        { url: receiver.url, secret: SECRET, events: ['publication'], namespaces: ['chat'], retryForMs: 2_000 },
      ],
    });
    for (let i = 0; i < 3; i++) await server.publish('chat:bad', { i });
    for (let i = 0; i < 5; i++) await server.publish('chat:good', { i });
    await waitFor(
      () => offsetsByChannel(receiver.unique())['chat:good']?.length === 5,
      3_000,
      () => `good channel got ${JSON.stringify(offsetsByChannel(receiver.unique()))}`,
    );
    expect(offsetsByChannel(receiver.unique())['chat:bad']).toBeUndefined();
    expect(receiver.requests.filter((r) => r.status === 500).length).toBeGreaterThan(0);

    // After retryForMs the bad channel's events are kept as failed, listed by the API.
    await expect
      .poll(async () => (await server.webhooks.list('failed', 0, 100)).map((d) => d.event.data.offset), {
        timeout: 10_000,
      })
      .toEqual([1, 2, 3]);
    const listed = await api(server, 'GET', '/v1/webhooks/deliveries?status=failed');
    expect(listed.status).toBe(200);
    const failed = listed.body.deliveries as Array<{
      id: number;
      status: string;
      attempts: number;
      event: WebhookEvent;
      lastError?: string;
    }>;
    expect(failed.map((d) => d.event.data.offset)).toEqual([1, 2, 3]);
    for (const d of failed) {
      expect(d.status).toBe('failed');
      expect(d.attempts).toBeGreaterThan(0);
      expect(d.lastError).toBe('HTTP 500');
    }
    const failedIds = failed.map((d) => d.event.id);
    expect(new Set(receiver.requests.flatMap((r) => r.events.map((e) => e.id))).has(failedIds[0] as string)).toBe(true);

    // Manual retry: the same event ids arrive, in order.
    receiver.respond = () => 200;
    for (const d of failed) {
      const r = await api(server, 'POST', `/v1/webhooks/deliveries/${d.id}/retry`);
      expect(r.status).toBe(200);
      expect((r.body.delivery as { status: string }).status).toBe('pending');
    }
    await waitFor(
      () => offsetsByChannel(receiver.unique())['chat:bad']?.length === 3,
      5_000,
      () => `bad channel got ${JSON.stringify(offsetsByChannel(receiver.unique()))}`,
    );
    expect(offsetsByChannel(receiver.unique())['chat:bad']).toEqual([1, 2, 3]);
    expect(
      receiver
        .unique()
        .filter((e) => e.data.channel === 'chat:bad')
        .map((e) => e.id),
    ).toEqual(failedIds);
    const after = await api(server, 'GET', '/v1/webhooks/deliveries?status=failed');
    expect(after.body.deliveries).toEqual([]);

    // Unknown ids and bad queries are the caller's fault.
    expect((await api(server, 'POST', '/v1/webhooks/deliveries/999999/retry')).status).toBe(404);
    expect((await api(server, 'GET', '/v1/webhooks/deliveries?status=nope')).status).toBe(400);
    expect((await api(server, 'GET', '/v1/webhooks/deliveries?limit=0')).status).toBe(400);
    expect((await api(server, 'GET', '/v1/webhooks/deliveries', undefined, { key: null })).status).toBe(401);
  }, 30_000);
});
