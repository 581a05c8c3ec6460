export type { ChannelMessages, ChannelMessagesOptions } from './channel-messages.js';
export type { DocView } from './doc-handle.js';
export {
  type DocNamespaces,
  SynclineProvider,
  type SynclineProviderProps,
  useClient,
  useDocNamespaces,
} from './provider.js';
export { type Equality, type ExternalStore, shallowEqual, useStore } from './store.js';
export { createSynclineHooks, type SynclineHooks } from './typed-hooks.js';
export { type UseChannelResult, useChannel, useChannelMessages } from './use-channel.js';
export { type ConnectionStatus, useConnectionState, useConnectionStatus } from './use-connection-state.js';
export { useDegraded } from './use-degraded.js';
export { type UseDocOptions, useDoc, useDocView, useMutate } from './use-doc.js';
export { type UsePresenceOptions, usePresence } from './use-presence.js';
export { type UseUndoResult, useUndo } from './use-undo.js';
export { useUpdate } from './use-update.js';
