import type { MutatorDefs, Transaction } from '@syncline/protocol';
import type { DocOptions, DocReplica } from './doc-replica.js';

/** The state type a mutator set works on (from the `tx: Transaction<S>` annotations). */
export type StateOf<M extends MutatorDefs> = {
  [K in keyof M]: M[K] extends (tx: Transaction<infer S>, args: never) => unknown
    ? S
    : M[K] extends { readonly run: (tx: Transaction<infer S>, args: never) => unknown }
      ? S
      : unknown;
}[keyof M];

/** Something that keeps one replica per document name: the client. */
export interface DocOpener {
  /** The replica of document `name`: the same object for the same name until it is closed. */
  doc<M extends MutatorDefs, S = StateOf<M>>(name: string, options: DocOptions<M>): DocReplica<S, M>;
}

/**
 * The replica of a document on a client: the same object for the same name
 * until it is closed. Same as `client.doc(name, options)`. See `DocReplica`.
 */
export function openDoc<M extends MutatorDefs, S = StateOf<M>>(
  client: DocOpener,
  name: string,
  options: DocOptions<M>,
): DocReplica<S, M> {
  return client.doc<M, S>(name, options);
}
