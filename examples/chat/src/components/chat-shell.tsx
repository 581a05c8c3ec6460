import { type ReactNode, useCallback, useState, useSyncExternalStore } from 'react';
import { ConnectionBanner } from './connection-banner.tsx';
import { RoomView } from './room-view.tsx';
import { Sidebar } from './sidebar.tsx';

const DEFAULT_ROOM = 'general';

function subscribeHash(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

function roomFromHash(): string {
  const m = /^#\/([A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
  return m?.[1] ?? DEFAULT_ROOM;
}

/** The signed-in app: banner, sidebar, and the room picked in the URL (`#/room-id`). */
export function ChatShell({ me, onSignOut }: { me: string; onSignOut: () => void }): ReactNode {
  const room = useSyncExternalStore(subscribeHash, roomFromHash, () => DEFAULT_ROOM);
  const [menuOpen, setMenuOpen] = useState(false);
  const select = useCallback((id: string) => {
    window.location.hash = `/${id}`;
    setMenuOpen(false);
  }, []);
  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <ConnectionBanner />
      <Sidebar me={me} room={room} onSelect={select} onSignOut={onSignOut} />
      <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />
      <main className="main">
        <RoomView key={room} roomId={room} me={me} onMenu={() => setMenuOpen(true)} />
      </main>
    </div>
  );
}
