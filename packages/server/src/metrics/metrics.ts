import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DeliverySampler } from './delivery-sampler.js';

/** Numbers the core keeps as plain counters (cheap on the hot path) and metrics read when scraped. */
export interface MetricSources {
  /** Open sessions on this node (all transports). */
  connections(): number;
}

/** Buckets for latencies in seconds, 0.5 ms … 10 s. */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Buckets for delivery latency in seconds, 0.1 ms … 10 s (a node's own part of a delivery is often under 1 ms). */
export const DELIVERY_BUCKETS_S = [0.0001, 0.00025, ...LATENCY_BUCKETS_S];

/** A counter whose value is read from a running total when scraped (features register theirs this way). */
export function totalCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * Prometheus metrics of one server node (its own registry, so several
 * servers in one process do not mix): the core's own (connections, broker,
 * backends, refusals). Features register theirs on `registry` (channels:
 * `channel-metrics.ts`, documents: `doc-metrics.ts`). Per-message counts are
 * kept as plain integers and read at scrape time; only per-request events
 * (publish, mutation, broker call, rejection) touch prom-client directly.
 */
export class ServerMetrics {
  /** The registry `/metrics` serializes. */
  readonly registry = new Registry();
  /** Publications accepted through this node (clients, server API, HTTP API); read from `published` when scraped. */
  readonly publicationsIn: Counter<'source'>;
  /** Running totals behind `publicationsIn`, by source (plain integers: counted once per publication). */
  readonly published = { client: 0, server: 0 };
  /** Connections refused at accept time, by reason. */
  readonly rejectedConnections: Counter<'reason'>;
  /** Connections closed because their send queue passed `maxQueueBytes`. */
  readonly sendQueueDrops: Counter;
  /** Errors sent to clients over their connections, by error code. */
  readonly errorReplies: Counter<'code'>;
  /** Time of broker calls, by operation, seconds. */
  readonly brokerDuration: Histogram<'op' | 'outcome'>;
  /** 1 while a backend (`broker`, `docs`) is reachable, 0 while it is down. */
  readonly backendUp: Gauge<'backend'>;
  /**
   * Time from a sampled publication's arrival on this node to the socket
   * writes of its subscribers, seconds (one observation per sampled
   * publication per flush slice: see `FlushScheduler`).
   */
  readonly deliveryLatency: Histogram;
  /** Picks the publications `deliveryLatency` times. */
  readonly deliverySampler = new DeliverySampler();

  constructor(nodeId: string, sources: MetricSources) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'syncline_' });
    const r = this.registry;
    const published = this.published;
    new Gauge({
      name: 'syncline_connections',
      help: 'Open client connections on this node (all transports).',
      registers: [r],
      collect() {
        this.set(sources.connections());
      },
    });
    this.publicationsIn = new Counter({
      name: 'syncline_publications_in_total',
      help: 'Publications accepted through this node, by source: client, or server (server API and HTTP API).',
      labelNames: ['source'],
      registers: [r],
      collect() {
        this.reset();
        // A source shows once it published, as when the counter was counted directly.
        if (published.client > 0) this.inc({ source: 'client' }, published.client);
        if (published.server > 0) this.inc({ source: 'server' }, published.server);
      },
    });
    this.rejectedConnections = new Counter({
      name: 'syncline_connections_rejected_total',
      help: 'Connections refused at accept time, by reason (limit, ip_limit, draining).',
      labelNames: ['reason'],
      registers: [r],
    });
    this.sendQueueDrops = new Counter({
      name: 'syncline_send_queue_drops_total',
      help: 'Connections closed as slow consumers: their send queue passed maxQueueBytes.',
      registers: [r],
    });
    this.errorReplies = new Counter({
      name: 'syncline_error_replies_total',
      help: 'Errors sent to clients over their connections (replies and connection errors), by error code.',
      labelNames: ['code'],
      registers: [r],
    });
    this.brokerDuration = new Histogram({
      name: 'syncline_broker_duration_seconds',
      help: 'Latency of broker calls (publish, history, subscribe), by outcome.',
      labelNames: ['op', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    this.deliveryLatency = new Histogram({
      name: 'syncline_delivery_latency_seconds',
      help:
        'Time from a publication arriving on this node (from the broker) to its write to the sockets of local subscribers, ' +
        'sampled (at most one publication per 10 ms; one observation per publication per flush slice, taken when its last subscriber of the slice was written).',
      buckets: DELIVERY_BUCKETS_S,
      registers: [r],
    });
    this.backendUp = new Gauge({
      name: 'syncline_backend_up',
      help: 'Whether a backend of this node is reachable (1) or down (0), by backend: broker, docs.',
      labelNames: ['backend'],
      registers: [r],
    });
    this.backendUp.set({ backend: 'broker' }, 1);
    this.backendUp.set({ backend: 'docs' }, 1);
  }

  /** Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
