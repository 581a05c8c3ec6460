import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { deltaOf, type MetricTotals, readTotals } from './overview-metrics.js';

/** How often a node samples and publishes its overview snapshot, ms. */
export const OVERVIEW_INTERVAL_MS = 2_000;
/** Resolution of the overview history, ms. */
export const OVERVIEW_POINT_MS = 10_000;
/** Points of history kept per node: 60 minutes at 10 s. */
export const OVERVIEW_POINTS = 360;

/** One point of a node's history (and the live part of its snapshot). */
export interface OverviewPoint {
  /** End of the interval, ms since the epoch. */
  readonly ts: number;
  readonly connections: number;
  readonly publicationsPerSec: number;
  readonly deliveriesPerSec: number;
  readonly mutationsPerSec: number;
  /** 99th percentile of broker publish time in the interval, ms; null without publishes. */
  readonly p99PublishMs: number | null;
  /**
   * 99th percentile of delivery latency in the interval, ms: from a
   * publication's arrival on this node to the socket writes of its local
   * subscribers (`syncline_delivery_latency_seconds`); null when no sampled
   * publication was delivered. Nodes of an older version send none:
   * readers take it as null.
   */
  readonly p99DeliveryMs: number | null;
  /** 99th percentile of event-loop delay in the interval, ms. */
  readonly eventLoopP99Ms: number;
  /** Errors sent to clients in the interval, by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Errors sent to clients per second, all codes together. */
  readonly errorsPerSec: number;
}

/** A node's overview snapshot, as published every {@link OVERVIEW_INTERVAL_MS}. */
export interface NodeSnapshot extends OverviewPoint {
  readonly node: string;
  readonly version: string;
  readonly protocol: { readonly min: number; readonly max: number };
  readonly startedAt: number;
  readonly ready: boolean;
  readonly draining: boolean;
}

/** What the sampler reads of the node besides its metrics. */
export interface SamplerSources {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Identity and state of the node. */
  describe(): Omit<NodeSnapshot, keyof OverviewPoint | 'startedAt'> & { readonly connections: number };
  /** Hands a snapshot to every console (the node's overview channel). */
  publish(snapshot: NodeSnapshot): Promise<unknown>;
}

/**
 * Samples a node's metrics every {@link OVERVIEW_INTERVAL_MS}, publishes
 * the snapshot for the consoles, and keeps {@link OVERVIEW_POINTS} points of
 * history at {@link OVERVIEW_POINT_MS} in memory (a ring: the oldest point
 * goes when a new one comes).
 */
export class OverviewSampler {
  readonly #src: SamplerSources;
  readonly #startedAt = Date.now();
  readonly #points: OverviewPoint[] = [];
  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  #timer: NodeJS.Timeout | undefined;
  #last: { totals: MetricTotals; at: number } | undefined;
  #pointStart: { totals: MetricTotals; at: number; own: number; loopMs: number } | undefined;
  #own = 0;
  #lastWarn = 0;
  #latest: NodeSnapshot | undefined;

  constructor(sources: SamplerSources) {
    this.#src = sources;
  }

  /** Starts sampling. */
  start(): void {
    if (this.#timer) return;
    this.#loop.enable();
    this.#timer = setInterval(() => void this.sample(), OVERVIEW_INTERVAL_MS);
    this.#timer.unref();
    void this.sample();
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#loop.disable();
  }

  /** The history, oldest first. */
  history(): readonly OverviewPoint[] {
    return this.#points;
  }

  /** The last snapshot (undefined before the first sample). */
  get latest(): NodeSnapshot | undefined {
    return this.#latest;
  }

  /** Takes one sample: publishes a snapshot, and closes a history point every {@link OVERVIEW_POINT_MS}. */
  async sample(): Promise<void> {
    const now = Date.now();
    let totals: MetricTotals;
    try {
      totals = await readTotals(this.#src.registry);
    } catch (err) {
      this.#warn(err, 'overview: reading metrics failed');
      return;
    }
    const loopMs = this.#loop.count > 0 ? this.#loop.percentile(99) / 1e6 : 0;
    this.#loop.reset();
    const last = this.#last ?? { totals, at: now - OVERVIEW_INTERVAL_MS };
    // The previous sample published one snapshot: it is not the app's traffic.
    const d = deltaOf(last.totals, totals, (now - last.at) / 1000, this.#last ? 1 : 0);
    this.#last = { totals, at: now };
    const state = this.#src.describe();
    const snapshot: NodeSnapshot = {
      ...state,
      startedAt: this.#startedAt,
      ts: now,
      ...d,
      eventLoopP99Ms: round(loopMs),
    };
    this.#latest = snapshot;
    this.#closePoint(totals, now, loopMs, state.connections);
    this.#own++;
    try {
      await this.#src.publish(snapshot);
    } catch (err) {
      this.#warn(err, 'overview: publishing the snapshot failed');
    }
  }

  #closePoint(totals: MetricTotals, now: number, loopMs: number, connections: number): void {
    const start = this.#pointStart;
    if (!start) {
      this.#pointStart = { totals, at: now, own: this.#own, loopMs };
      return;
    }
    const loopMax = Math.max(start.loopMs, loopMs);
    if (now - start.at < OVERVIEW_POINT_MS - OVERVIEW_INTERVAL_MS / 2) {
      this.#pointStart = { ...start, loopMs: loopMax };
      return;
    }
    const d = deltaOf(start.totals, totals, (now - start.at) / 1000, this.#own - start.own);
    this.#points.push({ ts: now, connections, ...d, eventLoopP99Ms: round(loopMax) });
    if (this.#points.length > OVERVIEW_POINTS) this.#points.shift();
    this.#pointStart = { totals, at: now, own: this.#own, loopMs: 0 };
  }

  #warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.#lastWarn < 60_000) return;
    this.#lastWarn = now;
    this.#src.logger.warn({ err }, msg);
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
