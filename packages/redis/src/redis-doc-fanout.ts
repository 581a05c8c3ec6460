import { type DocPatchMessage, jsonCodec } from '@syncline/protocol';
import {
  type DocFanout,
  type DocPatchListener,
  type DocStore,
  OrderedStream,
  patchMessageOf,
  SharedFrame,
  type StoredOp,
} from '@syncline/server';
import type { PubSubBus } from './pubsub-bus.js';

/** Most ops read from the store to fill one gap. */
const MAX_REPAIR_OPS = 1_000;

/** A patch as carried on the bus: the message and its frame (the bus's JSON reused for JSON sessions). */
interface Patch {
  readonly message: DocPatchMessage;
  readonly frame: SharedFrame<DocPatchMessage>;
}

/** A patch read from the bus: its JSON payload is already the JSON codec's frame. */
function patchOf(payload: string): Patch {
  const message = JSON.parse(payload) as DocPatchMessage;
  return { message, frame: new SharedFrame(message, { codec: jsonCodec, frame: payload }) };
}

/** A patch made from an op read from the store. */
function storedPatch(doc: string, op: StoredOp): Patch {
  const message = patchMessageOf(doc, op);
  return { message, frame: new SharedFrame(message) };
}

interface DocState {
  readonly listeners: Set<DocPatchListener>;
  /** The document's patches in version order, gaps filled from the store. */
  readonly stream: OrderedStream<Patch>;
}

/**
 * Carries committed document ops between nodes over Redis pub/sub (one bus
 * channel per document; a node listens only to documents with local
 * subscribers). Ops of a document are handed to listeners in version order,
 * each once: older versions are dropped, and when a version is skipped (two
 * nodes' publications crossed, or the bus dropped one) the missing ops are
 * read from the shared `DocStore` before delivering past them (one attempt
 * per gap, as `OrderedStream` states; replicas recover what it could not
 * fill by resubscribing). When the bus is back after a loss (a lost
 * connection, a failover, moved slots), each document's ops committed since
 * the last one delivered are read from the store; a document with no op
 * delivered yet gets its latest one, so replicas behind it see the gap and
 * resync.
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
    bus.onReconnected(() => {
      for (const [doc, state] of this.#docs) {
        this.#catchUp(doc, state).catch((err: unknown) => this.#onError(err, doc));
      }
    });
  }

  /** Reads what the bus may have missed of a document while it was away. */
  async #catchUp(doc: string, state: DocState): Promise<void> {
    const last = state.stream.last;
    if (last > 0) {
      const ops = await this.#store.opsSince(doc, last, MAX_REPAIR_OPS);
      if (ops !== 'too_old') {
        if (this.#docs.get(doc) !== state) return;
        for (const op of ops) state.stream.receive(storedPatch(doc, op));
        return;
      }
    }
    // Nothing delivered yet, or more missed than one read brings: the latest op.
    const [latest] = await this.#store.opsBefore(doc, Number.MAX_SAFE_INTEGER, 1);
    if (latest !== undefined && this.#docs.get(doc) === state) state.stream.receive(storedPatch(doc, latest));
  }

  publish(message: DocPatchMessage): void {
    this.#bus.publish(this.#prefix + message.doc, JSON.stringify(message)).catch((err: unknown) => {
      this.#onError(err, message.doc);
    });
  }

  listen(doc: string, listener: DocPatchListener): () => void {
    let st = this.#docs.get(doc);
    if (!st) {
      const listeners = new Set<DocPatchListener>();
      const state: DocState = {
        listeners,
        stream: new OrderedStream<Patch>({
          position: (patch) => patch.message.version,
          fill: (after, before) => this.#fill(doc, after, before),
          deliver: (patch) => this.#deliver(doc, listeners, patch),
          onError: (err) => this.#onError(err, doc),
        }),
      };
      st = state;
      this.#docs.set(doc, state);
      this.#bus
        .subscribe(this.#prefix + doc, (payload) => state.stream.receive(patchOf(payload)))
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

  /** Reads the ops missing after version `after` from the store (none when they are compacted away). */
  async #fill(doc: string, after: number, before: Patch): Promise<Patch[]> {
    const ops = await this.#store.opsSince(doc, after, MAX_REPAIR_OPS);
    if (ops === 'too_old') return [];
    const out: Patch[] = [];
    for (const op of ops) {
      if (op.version >= before.message.version) break;
      out.push(storedPatch(doc, op));
    }
    return out;
  }

  #deliver(doc: string, listeners: Set<DocPatchListener>, patch: Patch): void {
    for (const l of [...listeners]) {
      try {
        l(patch.message, patch.frame);
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
