import type { DocMutate, DocOptions, DocReplica, SynclineClient } from '@syncline/client';
import { type MutatorDefs, parseName } from '@syncline/protocol';
import { useEffect, useMemo } from 'react';
import { cachePer } from './activation.js';
import { DocHandle, type DocView } from './doc-handle.js';
import { type DocNamespaces, useClient, useDocNamespaces } from './provider.js';
import { type Equality, useStore } from './store.js';

const handles: (client: SynclineClient, name: string) => { handle: DocHandle | undefined } = cachePer(() => ({
  handle: undefined,
}));

function docHandle<S, M extends MutatorDefs>(
  client: SynclineClient,
  namespaces: DocNamespaces,
  name: string,
  options: DocOptions<M> | undefined,
): DocHandle<S, M> {
  const slot = handles(client, name);
  if (!slot.handle) {
    const ns = parseName(name)?.namespace;
    const opts = options ?? (ns === undefined ? undefined : namespaces[ns]);
    if (!opts) {
      throw new Error(
        `No mutators for document "${name}": pass them to <SynclineProvider docs={{ ${ns ?? 'namespace'}: { mutators } }}> or to the hook.`,
      );
    }
    slot.handle = new DocHandle(client, name, opts);
  }
  return slot.handle as unknown as DocHandle<S, M>;
}

/** Options of `useDoc`. */
export interface UseDocOptions<S, T, M extends MutatorDefs> {
  /** Mutators and store for this document, when the provider has none for its namespace. */
  readonly doc?: DocOptions<M>;
  /** Compares selections; `true` skips the re-render (default `Object.is`; see `shallowEqual`). */
  readonly isEqual?: Equality<T>;
  /** Unused; carries the state type for inference. */
  readonly state?: S;
}

/**
 * A slice of a document's state. The document is opened (and synced) while a
 * component uses it and closed a little after the last one unmounts. The
 * component re-renders only when the selected slice changes: `selector`
 * receives the visible state (undefined while loading) and the whole view
 * (`confirmed`, `status`, `version`, `pendingCount`). Without a selector it
 * returns the visible state.
 */
export function useDoc<S, T = S | undefined, M extends MutatorDefs = MutatorDefs>(
  name: string,
  selector?: (state: S | undefined, view: DocView<S>) => T,
  options: UseDocOptions<S, T, M> = {},
): T {
  const handle = docHandle<S, M>(useClient(), useDocNamespaces(), name, options.doc);
  const select = selector ?? ((s: S | undefined) => s as T);
  return useStore(handle, (view) => select(view.state, view), options.isEqual);
}

/** The whole view of a document: state, confirmed state, status, version and pending count. */
export function useDocView<S, M extends MutatorDefs = MutatorDefs>(name: string, doc?: DocOptions<M>): DocView<S> {
  const handle = docHandle<S, M>(useClient(), useDocNamespaces(), name, doc);
  return useStore(handle);
}

/**
 * The mutators of a document, `mutate.<name>(args)`: each runs at once on the
 * local replica (optimistic) and resolves when the server confirms it, or
 * rejects with the server's error after rolling back. Takes a document name
 * (opened while the component is mounted) or a replica. The returned object is
 * stable for a given document.
 */
export function useMutate<M extends MutatorDefs>(
  doc: string | DocReplica<unknown, M>,
  options?: DocOptions<M>,
): DocMutate<M> {
  const client = useClient();
  const namespaces = useDocNamespaces();
  const handle = typeof doc === 'string' ? docHandle<unknown, M>(client, namespaces, doc, options) : undefined;
  useEffect(() => handle?.retain(), [handle]);
  return useMemo(() => {
    if (typeof doc !== 'string') return doc.mutate;
    const h = handle as DocHandle<unknown, M>;
    const mutate: Record<string, (args: unknown) => Promise<unknown>> = {};
    const opts = options ?? namespaces[parseName(doc)?.namespace ?? ''];
    for (const key of Object.keys(opts?.mutators ?? {})) {
      mutate[key] = (args) =>
        h.withReplica((r) => (r.mutate as unknown as Record<string, (a: unknown) => Promise<unknown>>)[key]!(args));
    }
    return mutate as DocMutate<M>;
  }, [doc, handle, options, namespaces]);
}
