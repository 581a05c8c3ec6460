import type { SynclineClient } from '@syncline/client';
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
  return doc === undefined ? <DocsPage /> : <DocPage key={doc} doc={doc} client={client} csrf={csrf} />;
}
