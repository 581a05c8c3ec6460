import type { ClientState, StateChange, SynclineClient } from '@syncline/client';
import { useClient } from './provider.js';
import { type ExternalStore, useStore } from './store.js';

/** The connection's state and why it got there. */
export interface ConnectionStatus {
  readonly state: ClientState;
  /** The last transition (`client.lastChange`; undefined before the client's first one). */
  readonly change: StateChange | undefined;
  /** Time of the last transition seen since the hook was first used (or of that first use), ms since the epoch. */
  readonly since: number;
  /** True once the client has been connected at least once. */
  readonly everConnected: boolean;
  /** How many times the client got connected since the hook was first used (a reconnect makes it 2+). */
  readonly connects: number;
}

const statusStores = new WeakMap<SynclineClient, ExternalStore<ConnectionStatus>>();

/**
 * One status store per client, created on first use and kept as long as the
 * client: it listens to `state` events so the last transition is known even
 * while no component is mounted.
 */
function statusStore(client: SynclineClient): ExternalStore<ConnectionStatus> {
  let store = statusStores.get(client);
  if (store) return store;
  let current: ConnectionStatus = {
    state: client.current,
    change: client.lastChange,
    since: Date.now(),
    everConnected: client.current === 'connected' || client.info !== undefined,
    connects: client.current === 'connected' ? 1 : 0,
  };
  const listeners = new Set<() => void>();
  client.on('state', (change) => {
    current = {
      state: change.state,
      change,
      since: Date.now(),
      everConnected: current.everConnected || change.state === 'connected',
      connects: current.connects + (change.state === 'connected' ? 1 : 0),
    };
    for (const l of [...listeners]) l();
  });
  store = {
    get current() {
      return current;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  statusStores.set(client, store);
  return store;
}

/** The client's connection state: `connecting`, `connected`, `disconnected` or `closed`. */
export function useConnectionState(): ClientState {
  const client = useClient();
  return useStore<ClientState>(client);
}

/**
 * The connection state with the reason of the last transition, for banners
 * such as "offline", "reconnecting in 3 s" or "back online".
 */
export function useConnectionStatus(): ConnectionStatus {
  return useStore(statusStore(useClient()));
}
