import type { DocOptions, SynclineClient } from '@syncline/client';
import type { MutatorDefs } from '@syncline/protocol';
import { createContext, type ReactNode, useContext, useMemo } from 'react';

/** Document options per namespace (`room` for `room:general`), as given to the provider. */
export type DocNamespaces = Readonly<Record<string, DocOptions<MutatorDefs>>>;

interface SynclineContextValue {
  readonly client: SynclineClient;
  readonly docs: DocNamespaces;
}

const SynclineContext = createContext<SynclineContextValue | null>(null);

/** Props of `SynclineProvider`. */
export interface SynclineProviderProps {
  /** The client every hook below uses. The provider neither connects nor closes it. */
  readonly client: SynclineClient;
  /**
   * Mutators (and replica store) of each document namespace, so that
   * `useDoc('room:general')` knows how to open `room:*` documents.
   */
  readonly docs?: DocNamespaces;
  readonly children?: ReactNode;
}

const NO_DOCS: DocNamespaces = {};

/**
 * Makes a Syncline client available to the hooks of its subtree. The client
 * is created (and closed) by the app, outside React, so a re-render never
 * opens a second connection.
 */
export function SynclineProvider({ client, docs = NO_DOCS, children }: SynclineProviderProps): ReactNode {
  const value = useMemo(() => ({ client, docs }), [client, docs]);
  return <SynclineContext.Provider value={value}>{children}</SynclineContext.Provider>;
}

function useSyncline(): SynclineContextValue {
  const value = useContext(SynclineContext);
  if (!value) throw new Error('Syncline hooks must be used inside <SynclineProvider client={…}>.');
  return value;
}

/** The client of the nearest `SynclineProvider`; throws outside one. */
export function useClient(): SynclineClient {
  return useSyncline().client;
}

/** The document namespaces given to the nearest provider. */
export function useDocNamespaces(): DocNamespaces {
  return useSyncline().docs;
}
