import { Gauge, type Registry } from 'prom-client';
import { totalCounter } from '../metrics/metrics.js';
import type { DeliveryCounts } from './webhook-deliverer.js';
import type { OutboxStats } from './webhook-outbox.js';

/** What the webhook metrics read when scraped. */
export interface WebhookMetricSources {
  stats(): Promise<OutboxStats>;
  readonly counts: DeliveryCounts;
  /** Events dropped because the outbox was full. */
  dropped(): number;
}

/** Registers the webhook metrics: queue depth, age of the oldest pending event, deliveries, failures, drops. */
export function registerWebhookMetrics(registry: Registry, sources: WebhookMetricSources): void {
  let cached: { at: number; stats: Promise<OutboxStats> } | undefined;
  // The last values read: a scrape while the outbox's database is down reports them rather than failing.
  let last: OutboxStats = { pending: 0, failed: 0, oldestPendingAt: undefined };
  // One read per scrape for the three gauges.
  const stats = (): Promise<OutboxStats> => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) {
      const read = sources.stats().then(
        (s) => {
          last = s;
          return s;
        },
        () => last,
      );
      cached = { at: now, stats: read };
    }
    return cached.stats;
  };
  new Gauge({
    name: 'syncline_webhook_queue_depth',
    help: 'Webhook deliveries waiting to be sent (one per event and receiver).',
    registers: [registry],
    async collect() {
      this.set((await stats()).pending);
    },
  });
  new Gauge({
    name: 'syncline_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest webhook delivery waiting to be sent, seconds (0 when none).',
    registers: [registry],
    async collect() {
      const oldest = (await stats()).oldestPendingAt;
      this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1_000));
    },
  });
  new Gauge({
    name: 'syncline_webhook_failed_events',
    help: 'Webhook deliveries given up on after retryForMs, kept for inspection and manual retry.',
    registers: [registry],
    async collect() {
      this.set((await stats()).failed);
    },
  });
  totalCounter(
    registry,
    'syncline_webhook_events_delivered_total',
    'Webhook events acknowledged by their receiver (2xx).',
    () => sources.counts.delivered,
  );
  totalCounter(
    registry,
    'syncline_webhook_request_failures_total',
    'Webhook requests that failed (non-2xx answer, timeout, network error).',
    () => sources.counts.failedAttempts,
  );
  totalCounter(
    registry,
    'syncline_webhook_events_failed_total',
    'Webhook events given up on after retryForMs.',
    () => sources.counts.failedEvents,
  );
  totalCounter(
    registry,
    'syncline_webhook_events_dropped_total',
    'Webhook events dropped because the outbox held maxOutboxEvents.',
    () => sources.dropped(),
  );
}
