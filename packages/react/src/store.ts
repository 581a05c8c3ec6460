import { useCallback, useRef, useSyncExternalStore } from 'react';

/**
 * What every stateful Syncline object offers UI bindings: a `current` value
 * and a `subscribe(listener)` that calls the listener after it changed.
 * `current` must return the same reference until the value changes.
 */
export interface ExternalStore<T> {
  readonly current: T;
  subscribe(listener: () => void): () => void;
}

/** Compares two selected values; `true` keeps the previous one (no re-render). */
export type Equality<T> = (a: T, b: T) => boolean;

/** Shallow equality of arrays and plain objects (one level), `Object.is` otherwise. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => Object.is(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && Object.is(ra[k], rb[k]));
}

const identity = <T>(v: T): T => v;

/**
 * Reads a slice of an external store with `useSyncExternalStore`. The
 * component re-renders only when `select(store.current)` changes according to
 * `isEqual` (default `Object.is`); the selection is memoized per source value,
 * so selectors may build new arrays or objects when given `shallowEqual`.
 * Nothing is copied into React state.
 */
export function useStore<T, S = T>(
  store: ExternalStore<T>,
  select: (value: T) => S = identity as (value: T) => S,
  isEqual: Equality<S> = Object.is,
): S {
  const memo = useRef<{ store: ExternalStore<T>; select: (value: T) => S; source: T; selected: S } | null>(null);
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const getSnapshot = (): S => {
    const source = store.current;
    const m = memo.current;
    if (m && m.store === store && m.select === select && Object.is(m.source, source)) return m.selected;
    const next = select(source);
    if (m && m.store === store && isEqual(m.selected, next)) {
      memo.current = { store, select, source, selected: m.selected };
      return m.selected;
    }
    memo.current = { store, select, source, selected: next };
    return next;
  };
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
