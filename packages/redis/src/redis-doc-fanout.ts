import type { DocPatchMessage } from '@syncline/protocol';
import { type DocFanout, type DocPatchListener, type DocStore, patchMessageOf } from '@syncline/server';
import type { PubSubBus } from './pubsub-bus.js';

/** Most ops read from the store to fill one gap. */
const MAX_REPAIR_OPS = 1_000;

interface DocState {
  readonly listeners: Set<DocPatchListener>;
  /** Last version delivered on this node (0: none yet). */
  last: number;
  /** Messages that arrived while a gap was being filled. */
  queue: Array<{ message: DocPatchMessage; frame: string }> | undefined;
}

/**
 * Carries committed document ops between nodes over Redis pub/sub (one bus
 * channel per document; a node listens only to documents with local
 * subscribers). Ops of a document are handed to listeners in version order,
 * each once: older versions are dropped, and when a version is skipped (two
 * nodes' publications crossed, or the bus dropped one) the missing ops are
 * read from the shared `DocStore` before delivering past them.
 */
export class RedisDocFanout implements DocFanout {
  readonly #bus: PubSubBus;
  readonly #store: DocStore;
  readonly #prefix: string;
  readonly #onError: (err: unknown, doc: string) => void;
  readonly #docs = new Map<string, DocState>();

  constructor(
    bus: PubSubBus,
    store: DocStore,
    options: { prefix?: string; onError?: (err: unknown, doc: string) => void } = {},
  ) {
    this.#bus = bus;
    this.#store = store;
    this.#prefix = `${options.prefix ?? 'syncline:'}dp:`;
    this.#onError = options.onError ?? (() => undefined);
  }

  publish(message: DocPatchMessage): void {
    this.#bus.publish(this.#prefix + message.doc, JSON.stringify(message)).catch((err: unknown) => {
      this.#onError(err, message.doc);
    });
  }

  listen(doc: string, listener: DocPatchListener): () => void {
    let st = this.#docs.get(doc);
    if (!st) {
      const state: DocState = { listeners: new Set(), last: 0, queue: undefined };
      st = state;
      this.#docs.set(doc, state);
      this.#bus
        .subscribe(this.#prefix + doc, (payload) => this.#receive(doc, state, JSON.parse(payload), payload))
        .catch((err: unknown) => this.#onError(err, doc));
    }
    st.listeners.add(listener);
    const state = st;
    return () => {
      state.listeners.delete(listener);
      if (state.listeners.size === 0 && this.#docs.get(doc) === state) {
        this.#docs.delete(doc);
        this.#bus.unsubscribe(this.#prefix + doc).catch((err: unknown) => this.#onError(err, doc));
      }
    };
  }

  #receive(doc: string, st: DocState, message: DocPatchMessage, frame: string): void {
    if (st.queue) {
      st.queue.push({ message, frame });
      return;
    }
    if (st.last > 0 && message.version > st.last + 1) {
      st.queue = [{ message, frame }];
      this.#repair(doc, st, message.version);
      return;
    }
    this.#deliver(doc, st, message, frame);
  }

  #repair(doc: string, st: DocState, upTo: number): void {
    this.#store
      .opsSince(doc, st.last, MAX_REPAIR_OPS)
      .then(
        (ops) => {
          if (ops === 'too_old') return;
          for (const op of ops) {
            if (op.version >= upTo) break;
            const m = patchMessageOf(doc, op);
            this.#deliver(doc, st, m, JSON.stringify(m));
          }
        },
        (err: unknown) => this.#onError(err, doc),
      )
      .finally(() => {
        // Whatever could not be filled is delivered as is; the replicas see
        // the gap and resubscribe.
        const queued = (st.queue ?? []).sort((a, b) => a.message.version - b.message.version);
        st.queue = undefined;
        for (const q of queued) this.#deliver(doc, st, q.message, q.frame);
      });
  }

  #deliver(doc: string, st: DocState, message: DocPatchMessage, frame: string): void {
    if (message.version <= st.last) return;
    st.last = message.version;
    for (const l of [...st.listeners]) {
      try {
        l(message, frame);
      } catch (err) {
        this.#onError(err, doc);
      }
    }
  }

  async close(): Promise<void> {
    for (const doc of this.#docs.keys()) {
      await this.#bus.unsubscribe(this.#prefix + doc).catch(() => undefined);
    }
    this.#docs.clear();
  }
}
