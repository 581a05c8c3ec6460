import { type ConnectionStatus, useConnectionStatus, usePresence } from '@syncline/react';
import { type ReactNode, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { type TimelineMessage, useRoomActions, useRooms, useRoomTimeline } from '../hooks/rooms.ts';
import { type HereState, roomPresence } from '../shared/model.ts';
import { Avatar } from './avatar.tsx';
import { Composer } from './composer.tsx';
import { MenuIcon } from './icons.tsx';
import { MessageItem } from './message-item.tsx';

const GROUP_GAP_MS = 5 * 60_000;
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });

function dayOf(ts: number): string {
  return new Date(ts).toDateString();
}

function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = (): void => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

function TypingLine({ users }: { users: readonly string[] }): ReactNode {
  let text = '';
  if (users.length === 1) text = `${users[0]} is typing`;
  else if (users.length === 2) text = `${users[0]} and ${users[1]} are typing`;
  else if (users.length > 2) text = 'Several people are typing';
  return (
    <div className="typing" data-testid="typing" aria-live="polite">
      {users.length > 0 ? (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {text}…
        </>
      ) : null}
    </div>
  );
}

function Timeline({
  messages,
  me,
  onReact,
  onRetry,
}: {
  messages: readonly TimelineMessage[];
  me: string;
  onReact: (messageId: string, emoji: string) => void;
  onRetry: (m: { id: string; text: string }) => void;
}): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const count = messages.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when messages are added.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [count]);
  // A banner appearing or going away (or the composer growing) resizes the
  // timeline without scrolling it: keep the newest message in view when the
  // user was at the bottom; otherwise their scroll position stays as it is.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const items: ReactNode[] = [];
  let prev: TimelineMessage | undefined;
  for (const m of messages) {
    if (!prev || dayOf(prev.ts) !== dayOf(m.ts)) {
      items.push(
        <div className="day" key={`day-${m.id}`}>
          {dayOf(m.ts) === dayOf(Date.now()) ? 'Today' : dayFormat.format(m.ts)}
        </div>,
      );
    }
    const first = !prev || prev.user !== m.user || m.ts - prev.ts > GROUP_GAP_MS || dayOf(prev.ts) !== dayOf(m.ts);
    items.push(<MessageItem key={m.id} m={m} me={me} first={first} onReact={onReact} onRetry={onRetry} />);
    prev = m;
  }
  return (
    <div
      className="timeline"
      ref={ref}
      data-testid="timeline"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
    >
      {messages.length === 0 ? (
        <div className="empty">
          <div className="big">👋</div>
          <p>No messages yet. Say hello!</p>
        </div>
      ) : (
        items
      )}
    </div>
  );
}

/** The header's line about who is here: a count only while connected (the list is live then). */
function hereText(status: ConnectionStatus, count: number): string {
  if (status.state === 'connected') {
    return count === 0 ? 'Joining…' : `${count} ${count === 1 ? 'person' : 'people'} here`;
  }
  if (status.state === 'closed' || status.change?.reason === 'offline') return 'Offline';
  return status.everConnected ? 'Reconnecting…' : 'Connecting…';
}

/** One room: header with who is here, the timeline, who is typing, and the composer. */
export function RoomView({
  roomId,
  me,
  unreadElsewhere,
  onMenu,
}: {
  roomId: string;
  me: string;
  /** Other rooms have unread messages (a dot on the mobile menu button). */
  unreadElsewhere: boolean;
  onMenu: () => void;
}): ReactNode {
  const { rooms } = useRooms();
  const room = rooms.find((r) => r.id === roomId);
  const timeline = useRoomTimeline(roomId, me);
  const actions = useRoomActions(roomId);
  const [typing, setTyping] = useState(false);
  const members = usePresence(roomPresence(roomId), { state: { typing } satisfies HereState });
  const status = useConnectionStatus();
  // Presence is only known while connected: offline, the last list would be a guess.
  const connected = status.state === 'connected';
  const here = connected ? members : [];
  const typingUsers = here.filter((m) => m.user !== me && (m.state as HereState | null)?.typing).map((m) => m.user);
  const visible = usePageVisible();

  // Read receipts: seeing the room marks it read up to its last message.
  const { lastSeq, myReceipt, loading } = timeline;
  const { markRead } = actions;
  useEffect(() => {
    if (!loading && visible && lastSeq > myReceipt) markRead(lastSeq);
  }, [loading, visible, lastSeq, myReceipt, markRead]);

  const onTyping = useCallback((t: boolean) => setTyping(t), []);
  const name = room?.name ?? roomId;
  return (
    <>
      <header className="room-header">
        <button type="button" className="menu-btn" aria-label="Open rooms" onClick={onMenu}>
          <MenuIcon />
          {unreadElsewhere ? <span className="menu-dot" /> : null}
        </button>
        <div>
          <h2>#{name}</h2>
          <div className="sub" data-testid="here-count" data-connected={connected}>
            {hereText(status, here.length)}
          </div>
        </div>
        <div className="spacer" />
        <div className="avatar-stack" data-testid="here">
          {here.slice(0, 6).map((m) => (
            <Avatar key={m.user} user={m.user} small />
          ))}
        </div>
      </header>
      {timeline.loading ? (
        <div className="loading">Loading messages…</div>
      ) : (
        <Timeline messages={timeline.messages} me={me} onReact={actions.react} onRetry={actions.retry} />
      )}
      <TypingLine users={typingUsers} />
      <Composer room={name} onSend={actions.send} onTyping={onTyping} />
    </>
  );
}
