import { useCallback, useEffect, useRef, useState } from 'react';

/** One page of a list read from the server: its items and the cursor of the next page (undefined: none). */
export interface CursorPage<T, C> {
  readonly items: readonly T[];
  readonly next: C | undefined;
}

/** A list read page by page with the server's cursors; `more()` appends the next page. */
export interface CursorList<T> {
  readonly items: readonly T[];
  readonly loading: boolean;
  readonly error: string | undefined;
  /** True while the server says more pages follow. */
  readonly hasMore: boolean;
  /** Appends the next page. */
  more(): void;
  /** Reads the first page again (after a write, or live). */
  reload(): void;
  /**
   * Reads what is shown again in one request, without a loading state
   * (a live list): new items in the range appear, changed ones update.
   * Does nothing while a read is in flight or without `loadShown`.
   */
  refresh(): void;
}

/** Most items one refresh reads (the server's largest page); items past it are kept as they were. */
export const MAX_REFRESH_ITEMS = 1_000;

/**
 * Reads a list with server-side paging: the first page whenever `key`
 * changes (a new filter), the next ones on `more()`. Answers of an older
 * key are dropped. `loadShown(count)` reads the first `count` items in one
 * request, for `refresh()`.
 */
export function useCursorList<T, C>(
  key: string,
  load: (cursor: C | undefined) => Promise<CursorPage<T, C>>,
  loadShown?: (count: number) => Promise<CursorPage<T, C>>,
): CursorList<T> {
  const [items, setItems] = useState<readonly T[]>([]);
  const [next, setNext] = useState<C | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>(undefined);
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const shownRef = useRef(loadShown);
  shownRef.current = loadShown;
  const generation = useRef(0);
  const busy = useRef(false);
  const state = useRef({ items, next });
  state.current = { items, next };

  const read = useCallback((cursor: C | undefined, append: boolean) => {
    const g = ++generation.current;
    busy.current = true;
    setLoading(true);
    setError(undefined);
    loadRef.current(cursor).then(
      (page) => {
        if (g !== generation.current) return;
        busy.current = false;
        setItems((old) => (append ? [...old, ...page.items] : page.items));
        setNext(page.next);
        setLoading(false);
      },
      (err: unknown) => {
        if (g !== generation.current) return;
        busy.current = false;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
  }, []);

  const refreshing = useRef(false);
  const refresh = useCallback(() => {
    if (busy.current || refreshing.current) return;
    const count = Math.min(MAX_REFRESH_ITEMS, state.current.items.length);
    const loader = shownRef.current;
    if (!loader) return;
    const g = generation.current;
    refreshing.current = true;
    // Nothing shown yet: the first page, quietly.
    (count === 0 ? loadRef.current(undefined) : loader(count)).then(
      (page) => {
        refreshing.current = false;
        // A new filter or another page read since: this answer is stale.
        if (g !== generation.current || busy.current) return;
        const rest = state.current.items.slice(count);
        setItems(rest.length > 0 ? [...page.items, ...rest] : page.items);
        if (rest.length === 0) setNext(page.next);
      },
      () => {
        // A failed refresh keeps what is shown; the next one tries again.
        refreshing.current = false;
      },
    );
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` and `round` name the list to read.
  useEffect(() => {
    read(undefined, false);
  }, [key, round, read]);

  return {
    items,
    loading,
    error,
    hasMore: next !== undefined,
    more: () => {
      if (next !== undefined && !loading) read(next, true);
    },
    reload: () => setRound((r) => r + 1),
    refresh,
  };
}
