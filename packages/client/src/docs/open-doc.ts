import type { MutatorDefs, Transaction } from '@syncline/protocol';
import type { SynclineClient } from '../client.js';
import { type DocOptions, DocReplica } from './doc-replica.js';

/** The state type a mutator set works on (from the `tx: Transaction<S>` annotations). */
export type StateOf<M extends MutatorDefs> = {
  [K in keyof M]: M[K] extends (tx: Transaction<infer S>, args: never) => unknown
    ? S
    : M[K] extends { readonly run: (tx: Transaction<infer S>, args: never) => unknown }
      ? S
      : unknown;
}[keyof M];

const replicas = new WeakMap<SynclineClient, Map<string, DocReplica<unknown, MutatorDefs>>>();

/**
 * The replica of a document on a client: the same object for the same name
 * until it is closed. See `DocReplica`.
 */
export function openDoc<M extends MutatorDefs, S = StateOf<M>>(
  client: SynclineClient,
  name: string,
  options: DocOptions<M>,
): DocReplica<S, M> {
  let byName = replicas.get(client);
  if (!byName) {
    byName = new Map();
    replicas.set(client, byName);
  }
  const existing = byName.get(name);
  if (existing) return existing as unknown as DocReplica<S, M>;
  const map = byName;
  const replica: DocReplica<S, M> = new DocReplica<S, M>(client, name, options, () => {
    if (map.get(name) === (replica as unknown)) map.delete(name);
  });
  byName.set(name, replica as unknown as DocReplica<unknown, MutatorDefs>);
  return replica;
}
