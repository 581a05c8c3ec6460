/**
 * The chat's data model and mutators, shared by the browser (speculative
 * runs) and the server (authoritative runs). Rooms are documents; who is
 * online and who is typing is presence, not stored here.
 */
import { defineMutators, type Transaction, withArgs } from '@syncline/protocol';
import * as v from 'valibot';

/** Reactions a message can get. */
export const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '🙏'] as const;
/** One of `REACTIONS`. */
export type Reaction = (typeof REACTIONS)[number];

/** Messages kept per room document (older ones drop off). */
export const MAX_MESSAGES = 500;
/** Longest message, in characters. */
export const MAX_TEXT = 2000;
/** Longest room name, in characters. */
export const MAX_ROOM_NAME = 40;
/** Most rooms in the lobby. */
export const MAX_ROOMS = 100;
/** Most reactions on one message (users × emoji). */
export const MAX_REACTIONS_PER_MESSAGE = 50;
/** Most read receipts kept per room (the oldest go first). */
export const MAX_RECEIPTS = 1000;
/**
 * Most a room document may weigh, in estimated bytes of JSON (an upper
 * bound: 3 bytes per character); older messages drop off past it. Below the
 * server's `maxBytes` for documents (1 MiB by default), so sending never
 * hits that limit.
 */
export const ROOM_BUDGET_BYTES = 640 * 1024;

/** A chat message inside a room document. */
export interface ChatMessage {
  /** Chosen by the sender's browser, so a resent message is recognized. */
  readonly id: string;
  /** Position in the room: 1, 2, 3 … assigned in server order. */
  readonly seq: number;
  readonly user: string;
  readonly text: string;
  /** Server time of the send, ms since the epoch. */
  readonly ts: number;
  /** Emoji → users who reacted with it, in reaction order. */
  readonly reactions: Readonly<Record<string, readonly string[]>>;
}

/** A room document (`room:<id>`). */
export interface RoomDoc {
  readonly messages: readonly ChatMessage[];
  /** User → highest `seq` they have seen (read receipts; also drives unread counts). */
  readonly receipts: Readonly<Record<string, number>>;
}

/** A room in the lobby. */
export interface RoomInfo {
  readonly id: string;
  readonly name: string;
  readonly createdBy: string;
  readonly createdAt: number;
}

/** The lobby document (`lobby:main`): the room list. */
export interface LobbyDoc {
  readonly rooms: readonly RoomInfo[];
}

/** Name of the lobby document. */
export const LOBBY_DOC = 'lobby:main';
/** Name of a room's document. */
export const roomDoc = (roomId: string): string => `room:${roomId}`;
/** Presence channel of everyone online (state: the room they look at). */
export const ONLINE_CHANNEL = 'online:everyone';
/** Presence channel of a room's viewers (state: whether they are typing). */
export const roomPresence = (roomId: string): string => `here:${roomId}`;

/** State of a member of `ONLINE_CHANNEL`. */
export interface OnlineState {
  readonly room: string | null;
}
/** State of a member of a room's presence channel. */
export interface HereState {
  readonly typing: boolean;
}

/** An empty room. */
export const EMPTY_ROOM: RoomDoc = { messages: [], receipts: {} };
/** The lobby of a fresh server. */
export const INITIAL_LOBBY: LobbyDoc = {
  rooms: [
    { id: 'general', name: 'general', createdBy: 'syncline', createdAt: 0 },
    { id: 'random', name: 'random', createdBy: 'syncline', createdAt: 0 },
  ],
};

type Draft<T> = { -readonly [K in keyof T]: T[K] extends object ? Draft<T[K]> : T[K] };

const Id = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/));

/** True when the text has no control characters other than newline and tab. */
function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

const Text = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'A message cannot be empty.'),
  v.maxLength(MAX_TEXT, `A message can be at most ${MAX_TEXT} characters long.`),
  v.check(printable, 'A message cannot contain control characters.'),
);

/** An upper bound of a string's bytes in JSON (printable text: at most 3 bytes per UTF-16 unit). */
const strBytes = (s: string): number => 3 * s.length + 2;

/** Estimated JSON bytes of one message (an upper bound). */
export function messageBytes(m: ChatMessage): number {
  let n = 64 + strBytes(m.id) + strBytes(m.user) + strBytes(m.text);
  for (const [emoji, users] of Object.entries(m.reactions)) {
    n += strBytes(emoji) + 3;
    for (const u of users) n += strBytes(u) + 1;
  }
  return n;
}

/** Estimated JSON bytes of a room document (an upper bound). */
export function roomBytes(room: RoomDoc): number {
  let n = 40;
  for (const m of room.messages) n += messageBytes(m) + 1;
  for (const u of Object.keys(room.receipts)) n += strBytes(u) + 18;
  return n;
}

/** Drops the oldest messages while the room has too many or weighs too much. */
function trimRoom(room: Draft<RoomDoc>): void {
  const messages = room.messages as Draft<ChatMessage>[];
  if (messages.length > MAX_MESSAGES) messages.splice(0, messages.length - MAX_MESSAGES);
  let bytes = roomBytes(room as RoomDoc);
  let drop = 0;
  while (bytes > ROOM_BUDGET_BYTES && drop < messages.length - 1) {
    bytes -= messageBytes(messages[drop] as ChatMessage) + 1;
    drop++;
  }
  if (drop > 0) messages.splice(0, drop);
}

/** Sets a user's receipt, dropping the lowest receipts past `MAX_RECEIPTS`. */
function setReceipt(receipts: Record<string, number>, user: string, seq: number): void {
  receipts[user] = seq;
  const users = Object.keys(receipts);
  if (users.length <= MAX_RECEIPTS) return;
  users.sort((a, b) => (receipts[a] ?? 0) - (receipts[b] ?? 0));
  for (const u of users.slice(0, users.length - MAX_RECEIPTS)) if (u !== user) delete receipts[u];
}

/** Mutators of room documents. */
export const roomMutators = defineMutators({
  /** Appends a message; a resend of the same id is a no-op. */
  send: withArgs(v.object({ id: Id, text: Text }), (tx: Transaction<Draft<RoomDoc>>, a) => {
    const messages = tx.draft.messages as Draft<ChatMessage>[];
    if (messages.some((m) => m.id === a.id)) return;
    const user = tx.userId ?? 'system';
    const seq = (messages[messages.length - 1]?.seq ?? 0) + 1;
    messages.push({ id: a.id, seq, user, text: a.text, ts: tx.timestamp, reactions: {} });
    // Sending a message means having read the room up to it.
    const receipts = tx.draft.receipts as Record<string, number>;
    setReceipt(receipts, user, Math.max(receipts[user] ?? 0, seq));
    trimRoom(tx.draft);
  }),
  /** Adds the user's reaction to a message, or removes it when present. */
  react: withArgs(v.object({ messageId: Id, emoji: v.picklist(REACTIONS) }), (tx: Transaction<Draft<RoomDoc>>, a) => {
    const m = (tx.draft.messages as Draft<ChatMessage>[]).find((x) => x.id === a.messageId);
    if (!m) return;
    const user = tx.userId ?? 'system';
    const reactions = m.reactions as Record<string, string[]>;
    const users = reactions[a.emoji] ?? [];
    if (users.includes(user)) {
      const rest = users.filter((u) => u !== user);
      if (rest.length === 0) delete reactions[a.emoji];
      else reactions[a.emoji] = rest;
      return;
    }
    const count = Object.values(reactions).reduce((n, list) => n + list.length, 0);
    if (count >= MAX_REACTIONS_PER_MESSAGE) {
      throw new Error(`This message has the most reactions it can take (${MAX_REACTIONS_PER_MESSAGE}).`);
    }
    reactions[a.emoji] = [...users, user];
    trimRoom(tx.draft);
  }),
  /** Records that the user has seen the room up to `seq` (never goes back). */
  read: withArgs(
    v.object({ seq: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
    (tx: Transaction<Draft<RoomDoc>>, a) => {
      const user = tx.userId ?? 'system';
      const receipts = tx.draft.receipts as Record<string, number>;
      const last = tx.draft.messages[tx.draft.messages.length - 1]?.seq ?? 0;
      const seq = Math.min(a.seq, last);
      if ((receipts[user] ?? 0) < seq) setReceipt(receipts, user, seq);
    },
  ),
});

/** Mutators of the lobby document. */
export const lobbyMutators = defineMutators({
  /** Adds a room; an existing id or name is a no-op. */
  createRoom: withArgs(
    v.object({
      id: Id,
      name: v.pipe(
        v.string(),
        v.trim(),
        v.minLength(1, 'A room needs a name.'),
        v.maxLength(MAX_ROOM_NAME, `A room name can be at most ${MAX_ROOM_NAME} characters long.`),
        v.check(printable, 'A room name cannot contain control characters.'),
      ),
    }),
    (tx: Transaction<Draft<LobbyDoc>>, a) => {
      const rooms = tx.draft.rooms as Draft<RoomInfo>[];
      const name = a.name.toLowerCase().replace(/\s+/g, '-');
      if (rooms.some((r) => r.id === a.id || r.name === name)) return;
      if (rooms.length >= MAX_ROOMS) throw new Error(`The lobby is full: there can be at most ${MAX_ROOMS} rooms.`);
      rooms.push({ id: a.id, name, createdBy: tx.userId ?? 'system', createdAt: tx.timestamp });
    },
  ),
});

/** Turns a room name into a URL-safe id. */
export function slug(name: string): string {
  const s = name
    .trim()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return s || `room-${Math.random().toString(36).slice(2, 8)}`;
}
