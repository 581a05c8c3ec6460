import type { PresenceMember } from '@syncline/client';
import { useEffect, useMemo } from 'react';
import { presenceHandle } from './presence-handle.js';
import { useClient } from './provider.js';
import { type Equality, useStore } from './store.js';

/** Options of `usePresence`. */
export interface UsePresenceOptions<T> {
  /**
   * This client's state in the channel. While it is defined, the client is in
   * the set with it (updated when it changes, compared as JSON); `undefined`
   * (the default) only watches.
   */
  readonly state?: unknown;
  /** Compares selections (default `Object.is`). */
  readonly isEqual?: Equality<T>;
}

/**
 * The members of a channel's presence set (one per user, sorted by user id),
 * watched while the component is mounted. With `state`, this client is also
 * in the set with that state, and leaves when the component unmounts or the
 * state becomes `undefined`.
 */
export function usePresence(
  channel: string,
  options?: UsePresenceOptions<readonly PresenceMember[]>,
): readonly PresenceMember[];
/** A slice of a channel's presence set (re-renders only when it changes). */
export function usePresence<T>(
  channel: string,
  options: UsePresenceOptions<T>,
  selector: (members: readonly PresenceMember[]) => T,
): T;
export function usePresence<T>(
  channel: string,
  options: UsePresenceOptions<T> = {},
  selector?: (members: readonly PresenceMember[]) => T,
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
  return useStore(handle, selector ?? ((m) => m as T), options.isEqual);
}
