import { Fragment, lazy, type MouseEvent, type ReactNode, Suspense, useCallback, useEffect, useState } from 'react';
import { type ConsoleSession, currentSession, sendJson } from './api';
import type { LiveOverview } from './live-overview';
import { LoginPage } from './login-page';
import { NAVIGATE_EVENT } from './nav';
import { itemOf, PAGES, type PagePath, pageOf } from './pages';

// Each page is its own chunk, loaded when first shown: a page load parses the shell and that page only
// (the charts library goes with the overview, the Syncline client with the live connection).
const load = {
  overview: () => import('./overview-page').then((m) => ({ default: m.OverviewPage })),
  channels: () => import('./channels-page').then((m) => ({ default: m.ChannelsPage })),
  channel: () => import('./channel-page').then((m) => ({ default: m.ChannelPage })),
  users: () => import('./users-page').then((m) => ({ default: m.UsersPage })),
  user: () => import('./user-page').then((m) => ({ default: m.UserPage })),
  docs: () => import('./docs-page').then((m) => ({ default: m.DocsPage })),
  doc: () => import('./doc-page').then((m) => ({ default: m.DocPage })),
  versions: () => import('./versions-page').then((m) => ({ default: m.VersionsPage })),
  webhooks: () => import('./webhooks-page').then((m) => ({ default: m.WebhooksPage })),
} as const;
const OverviewPage = lazy(load.overview);
const ChannelsPage = lazy(load.channels);
const ChannelPage = lazy(load.channel);
const UsersPage = lazy(load.users);
const UserPage = lazy(load.user);
const DocsPage = lazy(load.docs);
const DocPage = lazy(load.doc);
const VersionsPage = lazy(load.versions);
const WebhooksPage = lazy(load.webhooks);

/** The chunk of the page a location shows. */
function chunkOf(pathname: string): keyof typeof load {
  const page = pageOf(pathname);
  if (itemOf(pathname) === undefined) return page;
  return page === 'channels' ? 'channel' : page === 'users' ? 'user' : page === 'docs' ? 'doc' : page;
}

// The page opened is fetched beside the session, not after it; the overview needs the live connection at once too.
const opened = chunkOf(window.location.pathname);
load[opened]().catch(() => undefined);
const liveChunk = opened === 'overview' ? import('./live-overview') : undefined;
liveChunk?.catch(() => undefined);

/** Asked as soon as the script runs, before React renders: the page's own reads follow sooner. */
const firstSession = currentSession();
firstSession.catch(() => undefined);

/** The console: the sign-in form, or the shell with its navigation and the current page. */
export function App() {
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const signedOut = useCallback(() => setSession(null), []);
  useEffect(() => {
    firstSession.then(
      (s) => setSession(s ?? null),
      () => setSession(null),
    );
  }, []);
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <LoginPage onSignedIn={setSession} />;
  return <Shell session={session} onSignedOut={signedOut} />;
}

function Shell({ session, onSignedOut }: { session: ConsoleSession; onSignedOut: () => void }) {
  const [path, setPath] = useState(() => window.location.pathname);
  // Every move (a link, back or forward) opens its page afresh, even the page already shown.
  const [visit, setVisit] = useState(0);
  const page = pageOf(path);
  const item = itemOf(path);
  const [live, setLive] = useState<LiveOverview | undefined>();
  useEffect(() => {
    // The live connection (and the Syncline client with it) loads beside the page, not before it.
    let open = true;
    let l: LiveOverview | undefined;
    void (liveChunk ?? import('./live-overview')).then(({ LiveOverview }) => {
      if (!open) return;
      l = new LiveOverview(onSignedOut);
      setLive(l);
    });
    return () => {
      open = false;
      l?.close();
    };
  }, [onSignedOut]);
  useEffect(() => {
    const onPop = () => {
      setPath(window.location.pathname);
      setVisit((v) => v + 1);
    };
    const onMove = () => {
      setMoved(true);
      onPop();
    };
    window.addEventListener('popstate', onPop);
    window.addEventListener(NAVIGATE_EVENT, onMove);
    return () => {
      window.removeEventListener('popstate', onPop);
      window.removeEventListener(NAVIGATE_EVENT, onMove);
    };
  }, []);
  const [moved, setMoved] = useState(false);
  useEffect(() => {
    const title = PAGES.find((p) => p.path === page)?.title ?? '';
    document.title = `${item === undefined ? '' : `${item} · `}${title} · Syncline console`;
    // After a move (not on load), focus goes to the new page's content, as a page load would put it at the top.
    if (moved) document.getElementById('main')?.focus();
  }, [page, item, moved]);

  const go = (e: MouseEvent<HTMLAnchorElement>, to: PagePath) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    window.history.pushState(null, '', `/admin/${to}`);
    setMoved(true);
    setPath(`/admin/${to}`);
    setVisit((v) => v + 1);
  };
  const signOut = async () => {
    await sendJson('/admin/logout', 'POST', session.csrf).catch(() => undefined);
    onSignedOut();
  };

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Syncline console</span>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a
                  href={`/admin/${p.path}`}
                  aria-current={p.path === page ? 'page' : undefined}
                  onClick={(e) => go(e, p.path)}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="signout" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Fragment key={visit}>{pageContent(page, item, session, live)}</Fragment>
        </Suspense>
      </main>
    </div>
  );
}

/** The content of a built page (and of its item: a channel, a user, a document), or undefined. */
function pageContent(
  page: PagePath,
  item: string | undefined,
  session: ConsoleSession,
  live: LiveOverview | undefined,
): ReactNode {
  switch (page) {
    case 'overview':
      return live && <OverviewPage live={live} />;
    case 'channels':
      return item === undefined ? (
        <ChannelsPage />
      ) : (
        <ChannelPage key={item} channel={item} csrf={session.csrf} client={live?.client} />
      );
    case 'users':
      return item === undefined ? <UsersPage /> : <UserPage key={item} user={item} csrf={session.csrf} />;
    case 'docs':
      return item === undefined ? (
        <DocsPage />
      ) : (
        <DocPage key={item} doc={item} client={live?.client} csrf={session.csrf} />
      );
    case 'versions':
      return <VersionsPage csrf={session.csrf} />;
    case 'webhooks':
      return <WebhooksPage csrf={session.csrf} />;
    default:
      return undefined;
  }
}
