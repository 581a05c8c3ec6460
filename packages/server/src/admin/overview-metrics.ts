import type { Registry } from 'prom-client';

/** Running totals read from a node's metrics registry (counters, as scraped). */
export interface MetricTotals {
  readonly publications: number;
  readonly deliveries: number;
  readonly mutations: number;
  /** Errors sent to clients, by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Broker publish latency histogram: cumulative count per upper bound (seconds). */
  readonly publishBuckets: ReadonlyMap<number, number>;
  /** Delivery latency histogram (`syncline_delivery_latency_seconds`): cumulative count per upper bound (seconds). */
  readonly deliveryBuckets: ReadonlyMap<number, number>;
}

interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  readonly metricName?: string;
}

async function valuesOf(registry: Registry, name: string): Promise<readonly MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as readonly MetricValue[];
}

/** A histogram's `_bucket` values (those that `keep` accepts) as cumulative count per upper bound, seconds. */
function bucketsOf(
  values: readonly MetricValue[],
  name: string,
  keep: (v: MetricValue) => boolean = () => true,
): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const v of values) {
    if (v.metricName !== `${name}_bucket` || !keep(v)) continue;
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + v.value);
  }
  return buckets;
}

const sum = (values: readonly MetricValue[], keep: (v: MetricValue) => boolean = () => true): number =>
  values.reduce((n, v) => (keep(v) ? n + v.value : n), 0);

/** Reads the totals the overview shows from a registry (at sampling time only: nothing on a hot path). */
export async function readTotals(registry: Registry): Promise<MetricTotals> {
  const [pubs, deliveries, mutations, errors, broker, delivery] = await Promise.all([
    valuesOf(registry, 'syncline_publications_in_total'),
    valuesOf(registry, 'syncline_deliveries_total'),
    valuesOf(registry, 'syncline_mutation_duration_seconds'),
    valuesOf(registry, 'syncline_error_replies_total'),
    valuesOf(registry, 'syncline_broker_duration_seconds'),
    valuesOf(registry, 'syncline_delivery_latency_seconds'),
  ]);
  const byCode: Record<string, number> = {};
  for (const v of errors) {
    const code = String(v.labels.code ?? 'unknown');
    byCode[code] = (byCode[code] ?? 0) + v.value;
  }
  return {
    publications: sum(pubs),
    deliveries: sum(deliveries),
    mutations: sum(mutations, (v) => v.metricName === 'syncline_mutation_duration_seconds_count'),
    errors: byCode,
    publishBuckets: bucketsOf(broker, 'syncline_broker_duration_seconds', (v) => v.labels.op === 'publish'),
    deliveryBuckets: bucketsOf(delivery, 'syncline_delivery_latency_seconds'),
  };
}

/** What happened between two readings: per-second rates, errors by code, the p99 delivery and publish latencies. */
export interface MetricDelta {
  readonly publicationsPerSec: number;
  readonly deliveriesPerSec: number;
  readonly mutationsPerSec: number;
  /** Errors sent in the interval, by code (codes with none left out). */
  readonly errors: Readonly<Record<string, number>>;
  /** Errors sent per second, all codes together. */
  readonly errorsPerSec: number;
  /** 99th percentile of broker publish time in the interval, ms (upper bucket bound); null without publishes. */
  readonly p99PublishMs: number | null;
  /**
   * 99th percentile of delivery latency in the interval (a publication's
   * arrival on the node to its subscribers' socket writes), ms (upper bucket
   * bound); null when no sampled publication was delivered.
   */
  readonly p99DeliveryMs: number | null;
}

/** The 99th percentile (upper bucket bound, ms) of the observations between two cumulative histograms. */
export function p99Ms(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return null;
  for (const le of bounds) {
    const n = (after.get(le) ?? 0) - (before.get(le) ?? 0);
    if (n >= total * 0.99) return Number.isFinite(le) ? le * 1000 : null;
  }
  return null;
}

/** The delta between two readings `seconds` apart; `ownPublications` (the overview's own) are left out. */
export function deltaOf(a: MetricTotals, b: MetricTotals, seconds: number, ownPublications: number): MetricDelta {
  const rate = (x: number, y: number) => Math.max(0, y - x) / Math.max(seconds, 0.001);
  const errors: Record<string, number> = {};
  let errorCount = 0;
  for (const [code, n] of Object.entries(b.errors)) {
    const d = n - (a.errors[code] ?? 0);
    if (d > 0) {
      errors[code] = d;
      errorCount += d;
    }
  }
  return {
    publicationsPerSec: rate(a.publications + ownPublications, b.publications),
    deliveriesPerSec: rate(a.deliveries, b.deliveries),
    mutationsPerSec: rate(a.mutations, b.mutations),
    errors,
    errorsPerSec: rate(0, errorCount),
    p99PublishMs: p99Ms(a.publishBuckets, b.publishBuckets),
    p99DeliveryMs: p99Ms(a.deliveryBuckets, b.deliveryBuckets),
  };
}
