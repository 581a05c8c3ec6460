/**
 * Wire protocol version spoken by this build. It changes only when the shape
 * or meaning of a frame changes; app versions are announced separately.
 */
export const PROTOCOL_VERSION = 1;

/** Oldest protocol version a server of this build still accepts. */
export const MIN_PROTOCOL_VERSION = 1;

/** What changed in each protocol version, newest last. */
export const PROTOCOL_CHANGELOG: ReadonlyArray<{ readonly version: number; readonly changes: string }> = [
  {
    version: 1,
    changes:
      'First version: connect, subscribe (with recovery), unsubscribe, publish (idempotent), history, refresh, ping/pong; replies, errors, publications, server-side unsubscribe and disconnect pushes.',
  },
];
