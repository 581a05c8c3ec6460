import type {
  Broker,
  BrokerEpochListener,
  BrokerListener,
  HistoryRead,
  PublishInput,
  PublishOutcome,
  StreamTop,
} from '../broker/broker.js';
import type { HistoryOptions } from '../namespaces/namespaces.js';
import type { ServerMetrics } from './metrics.js';

// Label sets of the publish timing, made once (prom-client hashes what it is given on every call).
const PUBLISH_OK = { op: 'publish', outcome: 'ok' } as const;
const PUBLISH_ERROR = { op: 'publish', outcome: 'error' } as const;

/** Seconds since `start` (`process.hrtime.bigint()`). */
function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Wraps a broker to time its calls and count accepted publications. */
export class MeteredBroker implements Broker {
  readonly #inner: Broker;
  readonly #metrics: ServerMetrics;

  constructor(inner: Broker, metrics: ServerMetrics) {
    this.#inner = inner;
    this.#metrics = metrics;
  }

  /** The wrapped broker. */
  get inner(): Broker {
    return this.#inner;
  }

  async #timed<T>(op: string, run: () => Promise<T>): Promise<T> {
    const end = this.#metrics.brokerDuration.startTimer({ op });
    try {
      const out = await run();
      end({ outcome: 'ok' });
      return out;
    } catch (err) {
      end({ outcome: 'error' });
      throw err;
    }
  }

  /** Timed like the other calls, without their closures and label merges: it runs once per publication. */
  publish(input: PublishInput): Promise<PublishOutcome> {
    const start = process.hrtime.bigint();
    const metrics = this.#metrics;
    return this.#inner.publish(input).then(
      (out) => {
        metrics.brokerDuration.observe(PUBLISH_OK, secondsSince(start));
        if (!out.duplicate) {
          if (input.user === undefined) metrics.published.server++;
          else metrics.published.client++;
        }
        return out;
      },
      (err: unknown) => {
        metrics.brokerDuration.observe(PUBLISH_ERROR, secondsSince(start));
        throw err;
      },
    );
  }

  subscribe(channel: string, listener: BrokerListener, onEpoch?: BrokerEpochListener): Promise<void> {
    return this.#timed('subscribe', () => this.#inner.subscribe(channel, listener, onEpoch));
  }

  unsubscribe(channel: string): Promise<void> {
    return this.#inner.unsubscribe(channel);
  }

  history(channel: string, options: { since: number; limit: number; history: HistoryOptions }): Promise<HistoryRead> {
    return this.#timed('history', () => this.#inner.history(channel, options));
  }

  historyBefore(
    channel: string,
    options: { before: number; limit: number; history: HistoryOptions },
  ): Promise<HistoryRead> {
    return this.#timed('history', () => this.#inner.historyBefore(channel, options));
  }

  top(channel: string): Promise<StreamTop> {
    return this.#timed('top', () => this.#inner.top(channel));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
