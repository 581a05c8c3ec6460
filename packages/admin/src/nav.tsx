import { type MouseEvent, type ReactNode, useEffect } from 'react';

/** Event the shell listens to when a page moves to another console URL. */
export const NAVIGATE_EVENT = 'syncline-console:navigate';

/** Moves to a console URL (`/admin/channels/chat%3Alobby`) without a reload; the back button returns. */
export function navigate(href: string): void {
  window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** The console URL of a page, or of one item of it (a channel, a user). */
export function consoleHref(page: string, item?: string): string {
  return item === undefined ? `/admin/${page}` : `/admin/${page}/${encodeURIComponent(item)}`;
}

/** A link inside the console: a real `<a href>` (new tab works), moved to without a reload on a plain click. */
export function Link({ href, children, className }: { href: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

/** A value of the page's URL query (`?prefix=chat:`), empty when absent. */
export function readQuery(name: string): string {
  return new URLSearchParams(window.location.search).get(name) ?? '';
}

/**
 * Keeps `value` in the page's URL query (`?prefix=chat:`), so a reload, a
 * shared link or the back button returns to it. The entry is replaced:
 * typing adds no history steps.
 */
export function useQueryParam(name: string, value: string): void {
  useEffect(() => {
    if (readQuery(name) === value) return;
    const url = new URL(window.location.href);
    if (value) url.searchParams.set(name, value);
    else url.searchParams.delete(name);
    window.history.replaceState(window.history.state, '', url);
  }, [name, value]);
}
