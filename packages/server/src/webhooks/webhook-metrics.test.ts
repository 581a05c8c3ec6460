import { Registry } from 'prom-client';
import { afterEach, expect, it, vi } from 'vitest';
import { registerWebhookMetrics } from './webhook-metrics.js';

afterEach(() => {
  vi.useRealTimers();
});

it('reports the last known outbox counts while the outbox cannot be read, instead of failing the scrape', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const registry = new Registry();
  let down = false;
  registerWebhookMetrics(registry, {
    stats: async () => {
      if (down) throw new Error('database down');
      return { pending: 7, failed: 2, oldestPendingAt: undefined };
    },
    counts: { delivered: 0, failedAttempts: 0, failedEvents: 0 },
    dropped: () => 0,
  });
  expect(await registry.metrics()).toMatch(/^syncline_webhook_queue_depth 7$/m);
  down = true;
  // Past the one-read-per-scrape window.
  vi.setSystemTime(Date.now() + 1_000);
  const text = await registry.metrics();
  expect(text).toMatch(/^syncline_webhook_queue_depth 7$/m);
  expect(text).toMatch(/^syncline_webhook_failed_events 2$/m);
});
