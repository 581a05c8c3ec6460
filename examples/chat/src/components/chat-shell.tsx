import { useStore } from '@syncline/react';
import { type ReactNode, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { notices } from '../hooks/notices.ts';
import { unreadTotal } from '../hooks/unread-total.ts';
import { ConnectionBanner } from './connection-banner.tsx';
import { DegradedBanner } from './degraded-banner.tsx';
import { RoomView } from './room-view.tsx';
import { Sidebar } from './sidebar.tsx';
import { UpdateBanner } from './update-banner.tsx';

const DEFAULT_ROOM = 'general';

function subscribeHash(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

function roomFromHash(): string {
  const m = /^#\/([A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
  return m?.[1] ?? DEFAULT_ROOM;
}

/** Refusals of the user's actions (limits reached), each for a few seconds. */
function Notices(): ReactNode {
  const list = useStore(notices);
  if (list.length === 0) return null;
  return (
    <div className="notices">
      {list.map((n) => (
        <div key={n.id} className="banner banner-notice" role="alert" data-testid="notice">
          {n.text}
          <button type="button" className="banner-button" onClick={() => notices.remove(n.id)}>
            OK
          </button>
        </div>
      ))}
    </div>
  );
}

/** The signed-in app: banner, sidebar, and the room picked in the URL (`#/room-id`). */
export function ChatShell({ me, onSignOut }: { me: string; onSignOut: () => void }): ReactNode {
  const room = useSyncExternalStore(subscribeHash, roomFromHash, () => DEFAULT_ROOM);
  const [menuOpen, setMenuOpen] = useState(false);
  const unread = useStore(unreadTotal);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Syncline Chat` : 'Syncline Chat';
  }, [unread]);
  const select = useCallback((id: string) => {
    window.location.hash = `/${id}`;
    setMenuOpen(false);
  }, []);
  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <div className="banners">
        <ConnectionBanner />
        <DegradedBanner />
        <UpdateBanner />
        <Notices />
      </div>
      <Sidebar me={me} room={room} onSelect={select} onSignOut={onSignOut} />
      <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />
      <main className="main">
        <RoomView key={room} roomId={room} me={me} unreadElsewhere={unread > 0} onMenu={() => setMenuOpen(true)} />
      </main>
    </div>
  );
}
