/** The console's pages, in navigation order. */
export const PAGES = [
  { path: 'overview', title: 'Overview' },
  { path: 'channels', title: 'Channels' },
  { path: 'users', title: 'Users' },
  { path: 'docs', title: 'Documents' },
  { path: 'versions', title: 'App versions' },
  { path: 'webhooks', title: 'Webhooks' },
] as const;

/** A page's path segment. */
export type PagePath = (typeof PAGES)[number]['path'];

/** The page a location names (`/admin/channels`), the overview by default. */
export function pageOf(pathname: string): PagePath {
  const seg = pathname.replace(/^\/admin\/?/, '').split('/')[0] ?? '';
  return PAGES.find((p) => p.path === seg)?.path ?? 'overview';
}

/** The item a location names after its page (`/admin/channels/chat%3Alobby` → `chat:lobby`), if any. */
export function itemOf(pathname: string): string | undefined {
  const seg = pathname.replace(/^\/admin\/?/, '').split('/')[1];
  if (!seg) return undefined;
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}
