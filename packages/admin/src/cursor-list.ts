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
}

/**
 * Reads a list with server-side paging: the first page whenever `key`
 * changes (a new filter), the next ones on `more()`. Answers of an older
 * key are dropped.
 */
export function useCursorList<T, C>(
  key: string,
  load: (cursor: C | undefined) => Promise<CursorPage<T, C>>,
): CursorList<T> {
  const [items, setItems] = useState<readonly T[]>([]);
  const [next, setNext] = useState<C | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>(undefined);
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const read = useCallback((cursor: C | undefined, append: boolean) => {
    const g = ++generation.current;
    setLoading(true);
    setError(undefined);
    loadRef.current(cursor).then(
      (page) => {
        if (g !== generation.current) return;
        setItems((old) => (append ? [...old, ...page.items] : page.items));
        setNext(page.next);
        setLoading(false);
      },
      (err: unknown) => {
        if (g !== generation.current) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
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
  };
}
