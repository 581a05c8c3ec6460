import { SynclineError } from '@syncline/protocol';
import type { SqliteHistory } from '../storage/sqlite-history.js';
import type {
  Broker,
  BrokerListener,
  BrokerPublication,
  HistoryRead,
  PublishInput,
  PublishOutcome,
  StreamTop,
} from './broker.js';

interface Pending {
  readonly input: PublishInput;
  readonly resolve: (o: PublishOutcome) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The embedded broker: one process, history in SQLite. Publications made
 * within one tick are committed in one transaction, then handed to listeners
 * in offset order, then acknowledged.
 */
export class LocalBroker implements Broker {
  readonly #history: SqliteHistory;
  readonly #listeners = new Map<string, BrokerListener>();
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;

  constructor(history: SqliteHistory) {
    this.#history = history;
  }

  publish(input: PublishInput): Promise<PublishOutcome> {
    if (this.#closed) return Promise.reject(new SynclineError('unavailable', 'The broker is closed.'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const now = Date.now();
    const inputs: PublishInput[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) inputs[i] = (batch[i] as Pending).input;
    // The JSON text of each stored publication, embedded as is in its JSON `pub` frame.
    const texts: (string | undefined)[] = new Array(batch.length);
    let outcomes: PublishOutcome[];
    try {
      outcomes = this.#history.appendBatch(inputs, now, texts);
    } catch (err) {
      const e = new SynclineError('unavailable', 'History storage failed; nothing was published.', { cause: err });
      for (const p of batch) p.reject(e);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      const o = outcomes[i] as PublishOutcome;
      if (!o.duplicate) {
        const listener = this.#listeners.get(p.input.channel);
        if (listener) {
          const json = texts[i];
          const pub: BrokerPublication =
            p.input.user === undefined
              ? { channel: p.input.channel, epoch: o.epoch, offset: o.offset, data: p.input.data, ts: now, json }
              : {
                  channel: p.input.channel,
                  epoch: o.epoch,
                  offset: o.offset,
                  data: p.input.data,
                  ts: now,
                  user: p.input.user,
                  json,
                };
          listener(pub);
        }
      }
      p.resolve(o);
    }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    this.#listeners.set(channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#listeners.delete(channel);
  }

  async history(
    channel: string,
    options: { since: number; limit: number; history: PublishInput['history'] },
  ): Promise<HistoryRead> {
    return this.#history.read(channel, options.since, options.limit, options.history, Date.now());
  }

  async historyBefore(
    channel: string,
    options: { before: number; limit: number; history: PublishInput['history'] },
  ): Promise<HistoryRead> {
    return this.#history.readBefore(channel, options.before, options.limit, options.history, Date.now());
  }

  async top(channel: string): Promise<StreamTop> {
    return this.#history.top(channel);
  }

  async close(): Promise<void> {
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    this.#listeners.clear();
  }
}
