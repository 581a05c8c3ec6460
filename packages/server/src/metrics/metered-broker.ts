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

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const out = await this.#timed('publish', () => this.#inner.publish(input));
    if (!out.duplicate) this.#metrics.publicationsIn.inc({ source: input.user === undefined ? 'server' : 'client' });
    return out;
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
