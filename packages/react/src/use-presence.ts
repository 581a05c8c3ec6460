import type { PresenceMember } from '@syncline/client';
import { useEffect, useMemo } from 'react';
import { presenceHandle } from './presence-handle.js';
import { useClient } from './provider.js';
import { type Equality, useStore } from './store.js';

/** Options of `usePresence`. */
export interface UsePresenceOptions<T, S = unknown> {
  /**
   * This client's state in the channel. While it is defined, the client is in
   * the set with it (updated when it changes, compared as JSON); `undefined`
   * (the default) only watches.
   */
  readonly state?: S | undefined;
  /** Compares selections (default `Object.is`). */
  readonly isEqual?: Equality<T>;
}

/**
 * The members of a channel's presence set (one per user, sorted by user id),
 * watched while the component is mounted. With `state`, this client is also
 * in the set with that state, and leaves when the component unmounts or the
 * state becomes `undefined`.
 */
export function usePresence<S = unknown>(
  channel: string,
  options?: UsePresenceOptions<readonly PresenceMember<S>[], S>,
): readonly PresenceMember<S>[];
/** A slice of a channel's presence set (re-renders only when it changes). */
export function usePresence<T, S = unknown>(
  channel: string,
  options: UsePresenceOptions<T, S>,
  selector: (members: readonly PresenceMember<S>[]) => T,
): T;
export function usePresence<T, S = unknown>(
  channel: string,
  options: UsePresenceOptions<T, S> = {},
  selector?: (members: readonly PresenceMember<S>[]) => T,
): T {
  const handle = presenceHandle(useClient(), channel);
  const key = useMemo(() => Symbol('presence-state'), []);
  const json = options.state === undefined ? undefined : JSON.stringify(options.state);
  useEffect(() => {
    const release = handle.retain();
    return () => {
      handle.setState(key, undefined);
      release();
    };
  }, [handle, key]);
  useEffect(() => {
    handle.setState(key, json === undefined ? undefined : JSON.parse(json));
  }, [handle, key, json]);
  // The server checked every state against the namespace's schema: each is an `S`.
  const select = (members: readonly PresenceMember[]): T =>
    selector ? selector(members as readonly PresenceMember<S>[]) : (members as T);
  return useStore(handle, select, options.isEqual);
}
