import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';

/**
 * Moves to a console location without a page load: pushes it to the
 * history and tells every listener (the shell and the pages read the
 * location through `useLocationPath`), as the back button does.
 */
export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The location's path, updated on every move (links, `navigate`, back and forward). */
export function useLocationPath(): string {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return path;
}

/** A link inside the console: a real `<a>` (opens in a new tab with a modifier), moved to without a reload. */
export function Link({ href, children, className }: { href: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

/** The console path of a document's page. */
export function docPath(doc: string): string {
  return `/admin/docs/${encodeURIComponent(doc)}`;
}
