/** The console's pages, in navigation order. */
export const PAGES = [
  { path: 'overview', title: 'Overview', what: '' },
  { path: 'channels', title: 'Channels', what: 'Channels with subscribers, their history and presence, publishing.' },
  { path: 'users', title: 'Users', what: 'Connected users and their connections; messages, disconnects, revocations.' },
  { path: 'docs', title: 'Documents', what: 'Documents, their versions and recent operations.' },
  { path: 'versions', title: 'App versions', what: 'The app version in force and the client versions it accepts.' },
  { path: 'webhooks', title: 'Webhooks', what: 'Failed and pending webhook deliveries, and retries.' },
] as const;

/** A page's path segment. */
export type PagePath = (typeof PAGES)[number]['path'];

/** Pages built so far (the others are marked "soon"). */
export const BUILT_PAGES: ReadonlySet<PagePath> = new Set<PagePath>(['overview', 'docs', 'versions', 'webhooks']);

/** The page a location names (`/admin/channels`), the overview by default. */
export function pageOf(pathname: string): PagePath {
  const seg = pathname.replace(/^\/admin\/?/, '').split('/')[0] ?? '';
  return PAGES.find((p) => p.path === seg)?.path ?? 'overview';
}
