import type {
  ChannelData,
  ChannelName,
  ClientSchema,
  PresenceMember,
  PresenceStateOf,
  ReceivedPublication,
  SynclineClient,
} from '@syncline/client';
import type { ChannelMessages, ChannelMessagesOptions } from './channel-messages.js';
import { useClient } from './provider.js';
import { type UseChannelResult, useChannel, useChannelMessages } from './use-channel.js';
import { type UsePresenceOptions, usePresence } from './use-presence.js';

/** The channel and presence hooks, typed per namespace from a schema (see `createSynclineHooks`). */
export interface SynclineHooks<C extends ClientSchema> {
  /** `useChannel`, with the channel's data type. */
  useChannel<Ch extends ChannelName<C>>(
    channel: Ch,
    onPublication?: (pub: ReceivedPublication<ChannelData<C, Ch>>) => void,
  ): UseChannelResult<ChannelData<C, Ch>>;
  /** `useChannelMessages`, with the channel's data type. */
  useChannelMessages<Ch extends ChannelName<C>>(
    channel: Ch,
    options?: ChannelMessagesOptions,
  ): ChannelMessages<ChannelData<C, Ch>>;
  /** `usePresence`, with the channel's presence state type. */
  usePresence<Ch extends ChannelName<C>>(
    channel: Ch,
    options?: UsePresenceOptions<readonly PresenceMember<PresenceStateOf<C, Ch>>[], PresenceStateOf<C, Ch>>,
  ): readonly PresenceMember<PresenceStateOf<C, Ch>>[];
  /** A typed slice of a channel's presence set. */
  usePresenceSelector<Ch extends ChannelName<C>, T>(
    channel: Ch,
    options: UsePresenceOptions<T, PresenceStateOf<C, Ch>>,
    selector: (members: readonly PresenceMember<PresenceStateOf<C, Ch>>[]) => T,
  ): T;
  /** The provider's client, typed. */
  useClient(): SynclineClient<C>;
}

/**
 * The hooks typed from the server's config type, declared once for the app:
 *
 * ```ts
 * import type config from '../syncline.config';
 * export const { useChannel, usePresence } = createSynclineHooks<typeof config>();
 * ```
 *
 * They are the same hooks as the untyped exports (same behaviour, same
 * provider); only their types differ.
 */
export function createSynclineHooks<C extends ClientSchema>(): SynclineHooks<C> {
  return {
    useChannel: (channel, onPublication) => useChannel(channel, onPublication),
    useChannelMessages: (channel, options) => useChannelMessages(channel, options),
    usePresence: (channel, options) => usePresence(channel, options),
    usePresenceSelector: (channel, options, selector) => usePresence(channel, options, selector),
    // The provider holds whichever client the app created with this schema.
    useClient: () => useClient() as SynclineClient<C>,
  };
}
