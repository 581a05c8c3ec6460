import type { NodeStatus, SynclineClient } from '@syncline/client';
import { useClient } from './provider.js';
import { type ExternalStore, useStore } from './store.js';

const degradedStores = new WeakMap<SynclineClient, ExternalStore<NodeStatus>>();

function degradedStore(client: SynclineClient): ExternalStore<NodeStatus> {
  let store = degradedStores.get(client);
  if (store) return store;
  store = {
    get current() {
      return client.serverStatus;
    },
    subscribe: (listener) => client.on('degraded', () => listener()),
  };
  degradedStores.set(client, store);
  return store;
}

/**
 * The node's status (`client.serverStatus`): `degraded` is true while the
 * node this client is connected to has lost its message broker (`reason:
 * 'broker'`: live updates are delayed, subscribes and presence are retried)
 * or its document storage (`reason: 'docs'`: document changes wait). For a
 * banner such as "Live updates are delayed; retrying…". Re-renders on change.
 */
export function useDegraded(): NodeStatus {
  return useStore(degradedStore(useClient()));
}
