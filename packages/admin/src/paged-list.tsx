import './data-pages.css';
import { useCallback, useEffect, useRef, useState } from 'react';

/** One page of a server list: its items and the cursor of the page after it, if any. */
export interface ListPage<T> {
  readonly items: readonly T[];
  readonly next?: string | undefined;
}

/** A paged server list as a page shows it. */
export interface PagedList<T> {
  readonly items: readonly T[];
  readonly loading: boolean;
  readonly error: string | undefined;
  /** 1-based number of the page shown. */
  readonly page: number;
  readonly hasNext: boolean;
  readonly hasPrev: boolean;
  next(): void;
  prev(): void;
  /** Reads the page shown again (after a write). */
  reload(): void;
}

/**
 * Pages through a server list with its cursors: `load(cursor)` reads one
 * page (`undefined` for the first). Previous pages are the cursors already
 * seen, so paging back reads the server again (fresh counts). A new `key`
 * (a search) starts over at the first page; answers of older requests are dropped.
 */
export function usePagedList<T>(key: string, load: (cursor: string | undefined) => Promise<ListPage<T>>): PagedList<T> {
  const [paging, setPaging] = useState<{ key: string; cursors: readonly (string | undefined)[] }>({
    key,
    cursors: [undefined],
  });
  const [result, setResult] = useState<{ page: ListPage<T> | undefined; error: string | undefined }>({
    page: undefined,
    error: undefined,
  });
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // A new search starts over at the first page.
  if (paging.key !== key) setPaging({ key, cursors: [undefined] });
  const cursors = paging.key === key ? paging.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key or tick reads again on purpose
  useEffect(() => {
    let wanted = true;
    setLoading(true);
    loadRef.current(cursor).then(
      (page) => {
        if (!wanted) return;
        setResult({ page, error: undefined });
        setLoading(false);
      },
      (err: unknown) => {
        if (!wanted) return;
        setResult({ page: undefined, error: err instanceof Error ? err.message : String(err) });
        setLoading(false);
      },
    );
    return () => {
      wanted = false;
    };
  }, [key, cursor, tick]);

  const next = useCallback(() => {
    const n = result.page?.next;
    if (n !== undefined) setPaging((p) => ({ key: p.key, cursors: [...p.cursors, n] }));
  }, [result]);
  const prev = useCallback(
    () => setPaging((p) => (p.cursors.length > 1 ? { key: p.key, cursors: p.cursors.slice(0, -1) } : p)),
    [],
  );
  const reload = useCallback(() => setTick((t) => t + 1), []);

  return {
    items: result.page?.items ?? [],
    loading,
    error: result.error,
    page: cursors.length,
    hasNext: result.page?.next !== undefined,
    hasPrev: cursors.length > 1,
    next,
    prev,
    reload,
  };
}

/** The paging buttons of a list, with the page number; `labels` name the directions (Older/Newer). */
export function Pager({
  list,
  label,
  labels = { prev: 'Previous', next: 'Next' },
}: {
  list: PagedList<unknown>;
  label: string;
  labels?: { prev: string; next: string };
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={list.prev} disabled={!list.hasPrev || list.loading}>
        {labels.prev}
      </button>
      <span className="pager-page" aria-live="polite">
        Page {list.page}
        {list.loading ? ' · loading…' : ''}
      </span>
      <button type="button" onClick={list.next} disabled={!list.hasNext || list.loading}>
        {labels.next}
      </button>
    </nav>
  );
}

/** The state line of a list: its error, or that it is empty. */
export function ListStatus({ list, empty }: { list: PagedList<unknown>; empty: string }) {
  if (list.error)
    return (
      <p role="alert" className="error">
        {list.error}
      </p>
    );
  if (!list.loading && list.items.length === 0) return <p className="empty">{empty}</p>;
  return null;
}

/** A value that follows `value` once it stopped changing for `ms` (a search box typed into). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [out, setOut] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setOut(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return out;
}
