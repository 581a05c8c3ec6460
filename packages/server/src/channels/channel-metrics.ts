import { Gauge, type Registry } from 'prom-client';
import { totalCounter } from '../metrics/metrics.js';

/** What the channel metrics read when scraped (plain counters, nothing on the hot path). */
export interface ChannelMetricSources {
  /** Channel subscriptions of local sessions. */
  subscriptions(): number;
  /** Channels this node receives from the broker. */
  channels(): number;
  /** Publications handed to local subscribers by the hub (once per publication). */
  publicationsOut(): number;
  /** Publication frames queued on local connections. */
  deliveries(): number;
}

/** Registers the channel feature's metrics on a node's registry. */
export function registerChannelMetrics(registry: Registry, sources: ChannelMetricSources): void {
  new Gauge({
    name: 'syncline_subscriptions',
    help: 'Channel subscriptions of the connections on this node.',
    registers: [registry],
    collect() {
      this.set(sources.subscriptions());
    },
  });
  new Gauge({
    name: 'syncline_channels',
    help: 'Channels with local subscribers (this node receives them from the broker).',
    registers: [registry],
    collect() {
      this.set(sources.channels());
    },
  });
  totalCounter(
    registry,
    'syncline_publications_out_total',
    'Publications this node received from the broker and fanned out to local subscribers (once per publication).',
    sources.publicationsOut,
  );
  totalCounter(
    registry,
    'syncline_deliveries_total',
    'Publication frames queued on local connections (one per subscriber per publication).',
    sources.deliveries,
  );
}
