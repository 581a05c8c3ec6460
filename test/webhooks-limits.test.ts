import { createServer, MAX_WEBHOOK_ENDPOINTS, parseConfigFile, type WebhookEndpointOptions } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { SECRET, startServer, TEST_NAMESPACES, waitFor } from './helpers.js';
import { startReceiver } from './webhooks-receiver.js';

const HOOK_SECRET = 'limits-test-hook-secret-0123456789';

function refusal(webhooks: readonly WebhookEndpointOptions[]): string {
  try {
    void createServer({ port: 0, auth: { secret: SECRET }, webhooks }).close();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return 'accepted';
}

const ok: WebhookEndpointOptions = {
  url: 'https://hooks.example.com/in',
  secret: HOOK_SECRET,
  events: ['user.connected'],
};

describe('webhook limits', () => {
  it('refuses bad entries at start: count, URL scheme, credentials, secret, event types, publication without namespaces', () => {
    expect(refusal(Array.from({ length: MAX_WEBHOOK_ENDPOINTS + 1 }, () => ok))).toMatch(/at most 16 entries/);
    expect(refusal([{ ...ok, url: 'ftp://hooks.example.com/in' }])).toMatch(/http: or https:/);
    expect(refusal([{ ...ok, url: 'file:///etc/passwd' }])).toMatch(/http: or https:/);
    expect(refusal([{ ...ok, url: 'javascript:alert(1)' }])).toMatch(/http: or https:/);
    expect(refusal([{ ...ok, url: 'not a url' }])).toMatch(/not a valid URL/);
    expect(refusal([{ ...ok, url: 'https://user:pw@hooks.example.com/' }])).toMatch(/credentials/);
    expect(refusal([{ ...ok, url: `https://hooks.example.com/${'a'.repeat(3_000)}` }])).toMatch(/at most 2048/);
    expect(refusal([{ ...ok, secret: 'short' }])).toMatch(/secret must be 16/);
    expect(refusal([{ ...ok, events: [] }])).toMatch(/at least one type/);
    expect(refusal([{ ...ok, events: ['user.connected', 'nope' as 'user.connected'] }])).toMatch(/unknown event type/);
    expect(refusal([{ ...ok, events: ['publication'] }])).toMatch(/opt-in per namespace/);
    expect(refusal([{ ...ok, events: ['publication'], namespaces: ['a:b'] }])).toMatch(/without ":"/);
    expect(refusal([{ ...ok, retryForMs: -1 }])).toMatch(/retryForMs/);
    expect(refusal(Array.from({ length: MAX_WEBHOOK_ENDPOINTS }, () => ok))).toBe('accepted');
  });

  it('takes webhooks in a JSON config file, within the same bounds', () => {
    const entry = {
      url: 'https://hooks.example.com/in',
      secret: HOOK_SECRET,
      events: ['publication'],
      namespaces: ['chat'],
    };
    const config = parseConfigFile(
      JSON.stringify({ webhooks: [entry], webhookDelivery: { timeoutMs: 5_000, maxOutboxEvents: 1_000 } }),
      'syncline.config.json',
    );
    expect(config.webhooks).toEqual([entry]);
    expect(() =>
      parseConfigFile(JSON.stringify({ webhooks: Array.from({ length: 17 }, () => entry) }), 'c.json'),
    ).toThrow(/webhooks/);
    expect(() => parseConfigFile(JSON.stringify({ webhooks: [{ ...entry, events: ['nope'] }] }), 'c.json')).toThrow(
      /webhooks/,
    );
    expect(() => parseConfigFile(JSON.stringify({ webhookDelivery: { timeoutMs: 0 } }), 'c.json')).toThrow(
      /webhookDelivery/,
    );
  });

  it('bounds each request body and the requests in flight', async () => {
    const receiver = await startReceiver();
    let inFlight = 0;
    let maxInFlight = 0;
    receiver.respond = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return 200;
    };
    const maxBatchBytes = 2_048;
    const server = await startServer({
      webhookDelivery: { pollIntervalMs: 50, maxBatchBytes, maxBatchEvents: 50, concurrency: 2 },
      webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['chat'] }],
    });
    const channels = Array.from({ length: 6 }, (_, i) => `chat:c${i}`);
    const text = 'x'.repeat(400);
    for (let i = 0; i < 10; i++) await Promise.all(channels.map((ch) => server.publish(ch, { i, text })));
    await waitFor(
      () => receiver.unique().length === 60,
      15_000,
      () => `got ${receiver.unique().length} of 60`,
    );
    for (const r of receiver.requests) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(maxBatchBytes);
    expect(receiver.requests.some((r) => r.events.length > 1)).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(2);
  });

  it('gives up on a request after timeoutMs and sends it again', async () => {
    const receiver = await startReceiver();
    let hung = 0;
    receiver.respond = () => (hung++ === 0 ? 'hang' : 200);
    const server = await startServer({
      webhookDelivery: { pollIntervalMs: 50, timeoutMs: 300, retryBaseMs: 50, retryMaxMs: 100 },
      webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['chat'] }],
    });
    const started = Date.now();
    await server.publish('chat:slow', { i: 1 });
    await waitFor(() => receiver.unique().length === 1, 5_000, 'the event after the timed-out attempt');
    expect(hung).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('holds at most maxOutboxEvents while the receiver is down; what is past it is dropped and counted', async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const server = await startServer({
      namespaces: TEST_NAMESPACES,
      webhookDelivery: { pollIntervalMs: 50, retryBaseMs: 60_000, maxOutboxEvents: 10 },
      webhooks: [{ url: receiver.url, secret: HOOK_SECRET, events: ['publication'], namespaces: ['chat'] }],
    });
    for (let i = 0; i < 25; i++) await server.publish('chat:flood', { i });
    // Publishing is never refused because of webhooks. Events are written when the publications
    // move from the publication log into the database (within 200 ms).
    await expect
      .poll(async () => (await server.webhooks.list('pending', 0, 100)).map((d) => d.event.data.offset), {
        timeout: 2_000,
      })
      .toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const metrics = await server.metrics.registry.metrics();
    expect(metrics).toMatch(/syncline_webhook_events_dropped_total\{[^}]*\} 15/);
    expect(metrics).toMatch(/syncline_webhook_queue_depth\{[^}]*\} 10/);
    expect(metrics).toMatch(/syncline_webhook_oldest_pending_age_seconds\{[^}]*\} [0-9.e-]+/);
    await expect
      .poll(async () => (await server.webhooks.list('pending', 0, 1))[0]?.attempts, { timeout: 5_000 })
      .toBe(1);
    const failures = await server.metrics.registry.metrics();
    expect(failures).toMatch(/syncline_webhook_request_failures_total\{[^}]*\} [1-9]/);
  });
});
