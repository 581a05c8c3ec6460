import { randomId } from '@syncline/client';
import { shallowEqual, useDoc, useMutate, useStore } from '@syncline/react';
import { useCallback } from 'react';
import {
  type ChatMessage,
  LOBBY_DOC,
  type LobbyDoc,
  type lobbyMutators,
  type Reaction,
  type RoomDoc,
  type RoomInfo,
  roomDoc,
  type roomMutators,
  slug,
} from '../shared/model.ts';
import { type FailedMessage, failedMessages } from './failed.ts';
import { notices, refusalText } from './notices.ts';

const NO_ROOMS: readonly RoomInfo[] = [];

/** The room list (from the lobby document). */
export function useRooms(): { rooms: readonly RoomInfo[]; loading: boolean } {
  return useDoc<LobbyDoc, { rooms: readonly RoomInfo[]; loading: boolean }>(
    LOBBY_DOC,
    (s) => ({ rooms: s?.rooms ?? NO_ROOMS, loading: s === undefined }),
    { isEqual: shallowEqual },
  );
}

/** Creates a room (optimistically: it shows at once); resolves with its id. */
export function useCreateRoom(): (name: string) => string {
  const mutate = useMutate<typeof lobbyMutators>(LOBBY_DOC);
  return useCallback(
    (name: string) => {
      const id = slug(name);
      mutate.createRoom({ id, name }).catch((err: unknown) => notices.add(refusalText(err)));
      return id;
    },
    [mutate],
  );
}

/** Messages of a room after `me`'s read receipt, not counting `me`'s own. */
export function unreadCount(room: RoomDoc | undefined, me: string): number {
  if (!room) return 0;
  const seen = room.receipts[me] ?? 0;
  let n = 0;
  for (let i = room.messages.length - 1; i >= 0; i--) {
    const m = room.messages[i] as ChatMessage;
    if (m.seq <= seen) break;
    if (m.user !== me) n++;
  }
  return n;
}

/** The unread count of a room (re-renders only when the number changes). */
export function useUnread(roomId: string, me: string): number {
  return useDoc<RoomDoc, number>(roomDoc(roomId), (s) => unreadCount(s, me));
}

/** Delivery state of a message as its sender sees it. */
export type Delivery = 'sent' | 'pending' | 'failed';

/** A message as the timeline shows it. */
export interface TimelineMessage {
  readonly id: string;
  readonly seq: number;
  readonly user: string;
  readonly text: string;
  readonly ts: number;
  readonly reactions: Readonly<Record<string, readonly string[]>>;
  readonly delivery: Delivery;
  readonly error?: string;
  /** Users (other than the author and `me`) whose read receipt stops at this message. */
  readonly seenBy: readonly string[];
}

/** What the room view needs. */
export interface RoomTimeline {
  readonly loading: boolean;
  readonly messages: readonly TimelineMessage[];
  /** Seq of the last message (0 when empty). */
  readonly lastSeq: number;
  /** `me`'s own read receipt. */
  readonly myReceipt: number;
}

function buildTimeline(
  state: RoomDoc | undefined,
  confirmed: RoomDoc | undefined,
  failed: readonly FailedMessage[],
  me: string,
): RoomTimeline {
  if (!state) return { loading: true, messages: [], lastSeq: 0, myReceipt: 0 };
  const confirmedIds = new Set((confirmed?.messages ?? []).map((m) => m.id));
  // Each other user's receipt lands on the last message at or below it.
  const seenAt = new Map<number, string[]>();
  const seqs = state.messages.map((m) => m.seq);
  for (const [user, seq] of Object.entries(state.receipts)) {
    if (user === me) continue;
    let at = -1;
    for (let i = seqs.length - 1; i >= 0; i--) {
      if ((seqs[i] as number) <= seq) {
        at = seqs[i] as number;
        break;
      }
    }
    if (at < 0) continue;
    const list = seenAt.get(at) ?? [];
    list.push(user);
    seenAt.set(at, list);
  }
  const messages: TimelineMessage[] = state.messages.map((m) => ({
    ...m,
    delivery: confirmedIds.has(m.id) ? 'sent' : 'pending',
    seenBy: (seenAt.get(m.seq) ?? []).filter((u) => u !== m.user).sort(),
  }));
  const last = state.messages[state.messages.length - 1];
  for (const f of failed) {
    if (confirmedIds.has(f.id)) continue;
    messages.push({
      id: f.id,
      seq: Number.MAX_SAFE_INTEGER,
      user: me,
      text: f.text,
      ts: f.ts,
      reactions: {},
      delivery: 'failed',
      error: f.error,
      seenBy: [],
    });
  }
  return { loading: false, messages, lastSeq: last?.seq ?? 0, myReceipt: state.receipts[me] ?? 0 };
}

/** A room's timeline: messages with their delivery state, receipts and failures. */
export function useRoomTimeline(roomId: string, me: string): RoomTimeline {
  const failed = useStore(failedMessages, (all) => all.filter((f) => f.room === roomId), shallowEqual);
  return useDoc<RoomDoc, RoomTimeline>(roomDoc(roomId), (state, view) =>
    buildTimeline(state, view.confirmed, failed, me),
  );
}

/** Actions on a room: send (optimistic), retry a failed send, react, mark as read. */
export function useRoomActions(roomId: string): {
  send: (text: string) => void;
  retry: (m: { id: string; text: string }) => void;
  react: (messageId: string, emoji: string) => void;
  markRead: (seq: number) => void;
} {
  const mutate = useMutate<typeof roomMutators>(roomDoc(roomId));
  const sendWithId = useCallback(
    (id: string, text: string) => {
      mutate.send({ id, text }).catch((err: unknown) => {
        failedMessages.add({
          id,
          room: roomId,
          text,
          error: refusalText(err),
          ts: Date.now(),
        });
      });
    },
    [mutate, roomId],
  );
  return {
    send: useCallback((text: string) => sendWithId(randomId(), text), [sendWithId]),
    retry: useCallback(
      (m: { id: string; text: string }) => {
        failedMessages.remove(m.id);
        sendWithId(m.id, m.text);
      },
      [sendWithId],
    ),
    react: useCallback(
      (messageId: string, emoji: string) => {
        mutate.react({ messageId, emoji: emoji as Reaction }).catch((err: unknown) => notices.add(refusalText(err)));
      },
      [mutate],
    ),
    markRead: useCallback((seq: number) => void mutate.read({ seq }).catch(() => undefined), [mutate]),
  };
}
