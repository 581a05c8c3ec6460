import type { PresenceMember } from '@syncline/client';
import { useConnectionState, usePresence } from '@syncline/react';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useCreateRoom, useRooms, useUnread } from '../hooks/rooms.ts';
import { unreadTotal } from '../hooks/unread-total.ts';
import { MAX_ROOM_NAME, ONLINE_CHANNEL, type OnlineState, type RoomInfo } from '../shared/model.ts';
import { Avatar } from './avatar.tsx';
import { BrandMark, PlusIcon } from './icons.tsx';

function RoomLink({
  room,
  me,
  active,
  onSelect,
}: {
  room: RoomInfo;
  me: string;
  active: boolean;
  onSelect: (id: string) => void;
}): ReactNode {
  const unread = useUnread(room.id, me);
  const shown = active ? 0 : unread;
  useEffect(() => {
    unreadTotal.set(room.id, shown);
    return () => unreadTotal.remove(room.id);
  }, [room.id, shown]);
  return (
    <button
      type="button"
      className={`room-link${active ? ' active' : ''}${shown > 0 ? ' unread' : ''}`}
      aria-current={active ? 'page' : undefined}
      data-testid={`room-${room.id}`}
      onClick={() => onSelect(room.id)}
    >
      <span className="hash">#</span>
      <span className="name">{room.name}</span>
      {shown > 0 ? (
        <span className="badge" data-testid={`unread-${room.id}`} title={`${shown} unread`}>
          {shown > 99 ? '99+' : shown}
        </span>
      ) : null}
    </button>
  );
}

function NewRoom({ onCreated }: { onCreated: (id: string) => void }): ReactNode {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const create = useCreateRoom();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!name.trim()) return;
    onCreated(create(name));
    setName('');
    setOpen(false);
  };
  return (
    <>
      <div className="side-heading">
        Rooms
        <button
          type="button"
          className="icon-btn"
          title="New room"
          aria-label="New room"
          onClick={() => setOpen((o) => !o)}
        >
          <PlusIcon />
        </button>
      </div>
      {open ? (
        <form className="new-room" onSubmit={submit}>
          <input
            className="input"
            placeholder="room name"
            maxLength={MAX_ROOM_NAME}
            value={name}
            aria-label="Room name"
            onChange={(e) => setName(e.target.value)}
            // biome-ignore lint/a11y/noAutofocus: opened on purpose by the user.
            autoFocus
          />
          <button className="btn" type="submit" disabled={!name.trim()}>
            Create
          </button>
        </form>
      ) : null}
    </>
  );
}

function OnlineList({ me, room, rooms }: { me: string; room: string; rooms: readonly RoomInfo[] }): ReactNode {
  const members = usePresence(ONLINE_CHANNEL, { state: { room } satisfies OnlineState });
  const connected = useConnectionState() === 'connected';
  const names = new Map(rooms.map((r) => [r.id, r.name]));
  const sorted = [...members].sort((a: PresenceMember, b: PresenceMember) =>
    a.user === me ? -1 : b.user === me ? 1 : a.user.localeCompare(b.user),
  );
  return (
    <div className={`side-section${connected ? '' : ' stale'}`} data-testid="online">
      <div className="side-heading">
        {connected ? `Online — ${members.length}` : `Last seen online — ${members.length}`}
      </div>
      {sorted.map((m) => {
        const where = (m.state as OnlineState | null)?.room;
        return (
          <div className="person" key={m.user} data-testid={`online-${m.user}`}>
            <Avatar user={m.user} online={connected} />
            <div className="who">
              <div className="who-name">
                {m.user}
                {m.user === me ? ' (you)' : ''}
              </div>
              {where ? <div className="where">in #{names.get(where) ?? where}</div> : null}
            </div>
          </div>
        );
      })}
    </div>
  );
}

/** Rooms with unread counts, room creation, who is online, and the signed-in user. */
export function Sidebar({
  me,
  room,
  onSelect,
  onSignOut,
}: {
  me: string;
  room: string;
  onSelect: (id: string) => void;
  onSignOut: () => void;
}): ReactNode {
  const { rooms } = useRooms();
  const state = useConnectionState();
  return (
    <aside className="sidebar">
      <div className="brand">
        <BrandMark />
        Syncline Chat
      </div>
      <div className="side-scroll">
        <nav className="side-section" aria-label="Rooms">
          <NewRoom onCreated={onSelect} />
          {rooms.map((r) => (
            <RoomLink key={r.id} room={r} me={me} active={r.id === room} onSelect={onSelect} />
          ))}
        </nav>
        <OnlineList me={me} room={room} rooms={rooms} />
      </div>
      <div className="me">
        <Avatar user={me} />
        <div className="who">
          <div className="who-name">{me}</div>
          <div className="status" data-testid="conn-state">
            {state === 'connected' ? 'Online' : state === 'connecting' ? 'Connecting…' : 'Offline'}
          </div>
        </div>
        <button type="button" className="link-btn" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </aside>
  );
}
