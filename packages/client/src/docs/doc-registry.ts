import type { MutatorDefs, ServerMessage } from '@syncline/protocol';
import type { DocHost, DocMessageHandler } from './doc-host.js';
import { type DocOptions, DocReplica } from './doc-replica.js';

/**
 * The documents of one client, keyed by name: one live replica per document
 * name (`open`), and the routing of the server's document messages to the
 * handlers registered for that name (`route`). A closed replica leaves the
 * registry, so the next `open` of its name makes a new one.
 */
export class DocRegistry {
  readonly #host: DocHost;
  /** Live replicas by document name; their type parameters are the opener's (see `open`). */
  readonly #replicas = new Map<string, object>();
  readonly #handlers = new Map<string, DocMessageHandler[]>();

  constructor(host: DocHost) {
    this.#host = host;
  }

  /**
   * The live replica of `name`, or a new one made with `options` (the
   * options of an existing replica are kept). The caller names the state and
   * mutator types; one name must always be opened with the same mutators.
   */
  open<S, M extends MutatorDefs>(name: string, options: DocOptions<M>): DocReplica<S, M> {
    const existing = this.#replicas.get(name);
    if (existing) return existing as DocReplica<S, M>;
    const replicas = this.#replicas;
    const replica: DocReplica<S, M> = new DocReplica<S, M>(this.#host, name, options, () => {
      if (replicas.get(name) === replica) replicas.delete(name);
    });
    replicas.set(name, replica);
    return replica;
  }

  /** Adds a handler of the messages naming document `doc`; returns the remover. */
  listen(doc: string, handler: DocMessageHandler): () => void {
    let list = this.#handlers.get(doc);
    if (!list) {
      list = [];
      this.#handlers.set(doc, list);
    }
    list.push(handler);
    return () => {
      const current = this.#handlers.get(doc);
      if (!current) return;
      const i = current.indexOf(handler);
      if (i >= 0) current.splice(i, 1);
      if (current.length === 0) this.#handlers.delete(doc);
    };
  }

  /** Hands a server message naming a document to its handlers; true when one took it. */
  route(message: ServerMessage): boolean {
    if (!('doc' in message)) return false;
    const list = this.#handlers.get(message.doc);
    if (!list) return false;
    for (const handler of [...list]) if (handler(message)) return true;
    return false;
  }
}
