import type { ReceivedPublication, SubscriptionState } from '@syncline/client';
import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import { channelHandle } from './channel-handle.js';
import { type ChannelMessages, type ChannelMessagesOptions, channelMessages } from './channel-messages.js';
import { useClient } from './provider.js';
import { useStore } from './store.js';

/** What `useChannel` returns. */
export interface UseChannelResult<T = unknown> {
  /** `subscribing`, `subscribed`, or `unsubscribed` (refused, or not started yet). */
  readonly state: SubscriptionState;
  /** Publishes to the channel (idempotent across reconnects). */
  readonly publish: (data: T) => Promise<{ offset: number }>;
}

/**
 * Subscribes to a channel while the component is mounted and calls
 * `onPublication` for every publication, in order, exactly once (including
 * publications recovered after a reconnect). The latest callback is used; it
 * need not be memoized. Several components may use the same channel: one
 * subscription serves them all. `T` is the channel's data type (hooks from
 * `createSynclineHooks<typeof config>()` infer it from the channel name).
 */
export function useChannel<T = unknown>(
  channel: string,
  onPublication?: (pub: ReceivedPublication<T>) => void,
): UseChannelResult<T> {
  const client = useClient();
  const handle = channelHandle(client, channel);
  const callback = useRef(onPublication);
  callback.current = onPublication;
  // The server checked the data against the namespace's schema: it is a `T`.
  useEffect(() => handle.use({ onPublication: (p) => callback.current?.(p as ReceivedPublication<T>) }), [handle]);
  const subscribe = useCallback((listener: () => void) => handle.use({ onState: listener }), [handle]);
  const getState = (): SubscriptionState => handle.subscription?.state ?? 'unsubscribed';
  const state = useSyncExternalStore(subscribe, getState, getState);
  const publish = useCallback((data: T) => client.publish(channel, data), [client, channel]);
  return { state, publish };
}

/**
 * The publications of a channel as a list: the last `history` ones (default
 * 50) loaded on subscribe, then every live one, in offset order, each once.
 * The list lives in a buffer outside React shared by every component that
 * shows the channel; the component re-renders when it changes.
 */
export function useChannelMessages<T = unknown>(
  channel: string,
  options: ChannelMessagesOptions = {},
): ChannelMessages<T> {
  const buffer = channelMessages(useClient(), channel);
  buffer.configure(options);
  // The server checked the data against the namespace's schema: it is a `T`.
  return useStore(buffer) as ChannelMessages<T>;
}
