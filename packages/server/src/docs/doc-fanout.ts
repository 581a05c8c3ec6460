import type { DocPatchMessage } from '@syncline/protocol';
import { SharedFrame } from '../session/shared-frame.js';

/** Receives committed ops of one document, with the frame every subscriber shares (encoded once per codec). */
export type DocPatchListener = (message: DocPatchMessage, frame: SharedFrame<DocPatchMessage>) => void;

/**
 * Carries committed document ops from the node that wrote them to every
 * node with subscribers. The embedded server delivers in process; a cluster
 * adapter publishes through its broker.
 *
 * Contract: for one document, listeners receive ops in version order, each
 * once; `publish` never throws (delivery failures are the adapter's to log).
 * A listener added after an op was published does not receive it (a
 * subscriber catches up through `doc.subscribe`).
 */
export interface DocFanout {
  /** Sends a committed op to every listener of its document. */
  publish(message: DocPatchMessage): void;
  /** Listens to one document's ops on this node; returns the remover. */
  listen(doc: string, listener: DocPatchListener): () => void;
  /** Stops delivery. */
  close(): Promise<void>;
}

/** In-process fan-out: encodes each op once and calls the listeners synchronously. */
export class LocalDocFanout implements DocFanout {
  readonly #listeners = new Map<string, Set<DocPatchListener>>();
  readonly #onError: (err: unknown, doc: string) => void;

  constructor(onError: (err: unknown, doc: string) => void) {
    this.#onError = onError;
  }

  publish(message: DocPatchMessage): void {
    const set = this.#listeners.get(message.doc);
    if (!set || set.size === 0) return;
    const frame = new SharedFrame(message);
    for (const l of [...set]) {
      try {
        l(message, frame);
      } catch (err) {
        this.#onError(err, message.doc);
      }
    }
  }

  listen(doc: string, listener: DocPatchListener): () => void {
    let set = this.#listeners.get(doc);
    if (!set) {
      set = new Set();
      this.#listeners.set(doc, set);
    }
    set.add(listener);
    return () => {
      const s = this.#listeners.get(doc);
      s?.delete(listener);
      if (s?.size === 0) this.#listeners.delete(doc);
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
