import type { AppUpdate, SynclineClient } from '@syncline/client';
import { useClient } from './provider.js';
import { type ExternalStore, useStore } from './store.js';

const updateStores = new WeakMap<SynclineClient, ExternalStore<AppUpdate>>();

function updateStore(client: SynclineClient): ExternalStore<AppUpdate> {
  let store = updateStores.get(client);
  if (store) return store;
  store = {
    get current() {
      return client.update;
    },
    subscribe: (listener) => client.on('update', () => listener()),
  };
  updateStores.set(client, store);
  return store;
}

/**
 * The server's verdict on this app's version (`createClient({ app: { version } })`):
 * `status` is `none`, `available` (show a "new version — reload" banner) or
 * `required` (block writes behind a reload prompt: the server refuses them with
 * `client_outdated`). `reload` is false when a reload towards the same version
 * was already asked recently (the reload-loop guard): say so instead of
 * reloading again. See docs/versioning.md.
 */
export function useUpdate(): AppUpdate {
  return useStore(updateStore(useClient()));
}
