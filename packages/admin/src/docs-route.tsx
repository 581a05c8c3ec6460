import type { SynclineClient } from '@syncline/client';
import { useEffect, useRef } from 'react';
import { DocPage } from './doc-page';
import { DocsPage } from './docs-page';
import { useLocationPath } from './navigate';

/** The document a location names (`/admin/docs/{name}`), if any. */
export function docOf(pathname: string): string | undefined {
  const m = /^\/admin\/docs\/(.+)$/.exec(pathname);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** The Documents section: the list at `/admin/docs`, a document at `/admin/docs/{name}`. */
export function DocsRoute({ client, csrf }: { client: SynclineClient | undefined; csrf: string }) {
  const doc = docOf(useLocationPath());
  const moved = useRef(false);
  // Between the list and a document (not on load), focus goes to the new content, as a page load would put it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new document (or the list) is what moves the focus.
  useEffect(() => {
    if (moved.current) document.getElementById('main')?.focus();
    moved.current = true;
  }, [doc]);
  return doc === undefined ? <DocsPage /> : <DocPage key={doc} doc={doc} client={client} csrf={csrf} />;
}
