import { type MouseEvent, useCallback, useEffect, useState } from 'react';
import { type ConsoleSession, currentSession, sendJson } from './api';
import { DocsRoute } from './docs-route';
import { LiveOverview } from './live-overview';
import { LoginPage } from './login-page';
import { navigate } from './navigate';
import { OverviewPage } from './overview-page';
import { BUILT_PAGES, PAGES, type PagePath, pageOf } from './pages';
import { PlaceholderPage } from './placeholder-page';
import { VersionsPage } from './versions-page';
import { WebhooksPage } from './webhooks-page';

/** The console: the sign-in form, or the shell with its navigation and the current page. */
export function App() {
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const signedOut = useCallback(() => setSession(null), []);
  useEffect(() => {
    currentSession().then(
      (s) => setSession(s ?? null),
      () => setSession(null),
    );
  }, []);
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <LoginPage onSignedIn={setSession} />;
  return <Shell session={session} onSignedOut={signedOut} />;
}

function Shell({ session, onSignedOut }: { session: ConsoleSession; onSignedOut: () => void }) {
  const [page, setPage] = useState<PagePath>(() => pageOf(window.location.pathname));
  const [live, setLive] = useState<LiveOverview | undefined>();
  useEffect(() => {
    const l = new LiveOverview(onSignedOut);
    setLive(l);
    return () => l.close();
  }, [onSignedOut]);
  useEffect(() => {
    const onPop = () => setPage(pageOf(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const [moved, setMoved] = useState(false);
  useEffect(() => {
    const title = PAGES.find((p) => p.path === page)?.title ?? '';
    document.title = `${title} · Syncline console`;
    // After a move (not on load), focus goes to the new page's content, as a page load would put it at the top.
    if (moved) document.getElementById('main')?.focus();
  }, [page, moved]);

  const go = (e: MouseEvent<HTMLAnchorElement>, path: PagePath) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    setMoved(true);
    navigate(`/admin/${path}`);
  };
  const signOut = async () => {
    await sendJson('/admin/logout', 'POST', session.csrf).catch(() => undefined);
    onSignedOut();
  };
  const info = PAGES.find((p) => p.path === page);

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
                  {!BUILT_PAGES.has(p.path) && <span className="soon"> (soon)</span>}
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
        {page === 'overview' ? (
          live && <OverviewPage live={live} />
        ) : page === 'docs' ? (
          <DocsRoute client={live?.client} csrf={session.csrf} />
        ) : page === 'versions' ? (
          <VersionsPage csrf={session.csrf} />
        ) : page === 'webhooks' ? (
          <WebhooksPage csrf={session.csrf} />
        ) : (
          <PlaceholderPage title={info?.title ?? ''} what={info?.what ?? ''} />
        )}
      </main>
    </div>
  );
}
