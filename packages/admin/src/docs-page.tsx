import { type FormEvent, useEffect, useState } from 'react';
import { getJson } from './api';
import { type DocListItem, type DocNamespaceInfo, docNamespaces, formatTime, query } from './console-requests';
import { useCursorList } from './cursor-list';
import { consoleHref, Link } from './nav';

const PAGE_SIZE = 50;
/** How often the list shown is read again while the page is visible, ms (see docs/admin.md, Documents). */
export const DOCS_REFRESH_MS = 3_000;

/** The Documents page: pick a namespace, search by name prefix, page through the stored documents. */
export function DocsPage() {
  const [namespaces, setNamespaces] = useState<readonly DocNamespaceInfo[] | undefined>();
  const [namespace, setNamespace] = useState('');
  const [prefix, setPrefix] = useState('');
  const [typed, setTyped] = useState('');
  useEffect(() => {
    docNamespaces().then(setNamespaces, () => setNamespaces([]));
  }, []);
  const read = async (after: string | undefined, limit: number) => {
    const page = await getJson<{ docs: DocListItem[]; next?: string }>(
      `/v1/docs${query({ namespace, prefix, after, limit })}`,
    );
    return { items: page.docs, next: page.next };
  };
  const list = useCursorList<DocListItem, string>(
    `${namespace}\n${prefix}`,
    (after) => read(after, PAGE_SIZE),
    (count) => read(undefined, Math.max(count, PAGE_SIZE)),
  );
  // Live: the rows shown are read again (one request) while the tab is visible.
  const { refresh } = list;
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, DOCS_REFRESH_MS);
    return () => clearInterval(t);
  }, [refresh]);
  const search = (e: FormEvent) => {
    e.preventDefault();
    setPrefix(typed.trim());
  };

  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">Documents</h1>
      </header>
      {namespaces?.length === 0 && <p className="muted">This node has no document namespaces.</p>}
      <form className="filters" onSubmit={search} aria-label="Find documents">
        <label>
          Namespace{' '}
          <select value={namespace} onChange={(e) => setNamespace(e.target.value)}>
            <option value="">All namespaces</option>
            {namespaces?.map((n) => (
              <option key={n.namespace} value={n.namespace}>
                {n.namespace}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name starts with{' '}
          <input
            type="search"
            value={typed}
            placeholder="room:gen"
            maxLength={255}
            onChange={(e) => setTyped(e.target.value)}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {list.error && (
        <p role="alert" className="error">
          {list.error}
        </p>
      )}
      <div className="table-wrap">
        <table className="list" data-testid="doc-list">
          <caption className="sr-only">Stored documents</caption>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col" className="num">
                Version
              </th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((d) => (
              <tr key={d.doc}>
                <th scope="row" className="mono">
                  <Link href={consoleHref('docs', d.doc)}>{d.doc}</Link>
                </th>
                <td className="num">{d.version}</td>
                <td>{formatTime(d.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!list.loading && list.items.length === 0 && !list.error && (
        <p className="muted">No stored document matches (a document is stored once it was written).</p>
      )}
      <p className="pager" aria-live="polite">
        {list.loading ? 'Loading…' : `${list.items.length} shown`}
        {list.hasMore && (
          <button type="button" onClick={list.more} disabled={list.loading}>
            Load more
          </button>
        )}
      </p>
    </section>
  );
}
