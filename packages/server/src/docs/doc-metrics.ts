import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_S } from '../metrics/metrics.js';

/** The document feature's metrics. */
export interface DocMetrics {
  /** Time to apply one document mutation (commit included), seconds, by outcome. */
  readonly mutationDuration: Histogram<'outcome'>;
}

/** Registers the document feature's metrics on a node's registry. */
export function registerDocMetrics(registry: Registry): DocMetrics {
  return {
    mutationDuration: new Histogram({
      name: 'syncline_mutation_duration_seconds',
      help: 'Time to apply one document mutation on this node, commit included.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    }),
  };
}
