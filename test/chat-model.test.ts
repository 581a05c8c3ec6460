import { describe, expect, it } from 'vitest';
import { refusalText } from '../examples/chat/src/hooks/notices.js';
import { unreadCount } from '../examples/chat/src/hooks/rooms.js';
import { colorOf, initialsOf, MAX_NAME, nameProblem, normalizeName } from '../examples/chat/src/shared/identity.js';
import {
  LOBBY_DOC,
  type LobbyDoc,
  lobbyMutators,
  MAX_REACTIONS_PER_MESSAGE,
  MAX_ROOMS,
  MAX_TEXT,
  ROOM_BUDGET_BYTES,
  type RoomDoc,
  roomBytes,
  roomMutators,
  slug,
} from '../examples/chat/src/shared/model.js';
import chatConfig from '../examples/chat/syncline.config.js';
import { client, startServer, waitFor, waitForValue } from './helpers.js';

async function chatServer() {
  // The model's mutators copy whole rooms: on a loaded test machine a heavy room can take longer
  // than the default 100 ms budget, which is not what these tests are about (docs-mutator-budget is).
  return startServer({
    docs: chatConfig.docs ?? {},
    namespaces: chatConfig.namespaces ?? {},
    limits: { mutatorTimeoutMs: 2_000, mutatorMsPerSec: 0 },
  });
}

describe('chat example model on a real server', () => {
  it('the server decides author, time and order; a resend of the same message id is a no-op', async () => {
    const server = await chatServer();
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    const a = alice.doc<typeof roomMutators, RoomDoc>('room:t1', { mutators: roomMutators });
    const b = bob.doc<typeof roomMutators, RoomDoc>('room:t1', { mutators: roomMutators });
    await Promise.all([a.ready, b.ready]);
    await a.mutate.send({ id: 'm1', text: '  hello  ' });
    await a.mutate.send({ id: 'm1', text: 'hello again' });
    await b.mutate.send({ id: 'm2', text: 'hi alice' });
    await waitFor(
      () => b.confirmed?.messages.length === 2 && a.confirmed?.messages.length === 2,
      5_000,
      () =>
        `wanted 2 confirmed messages at both, saw alice ${a.confirmed?.messages.length}, bob ${b.confirmed?.messages.length}`,
    );
    const msgs = b.current?.messages ?? [];
    expect(msgs.map((m) => [m.seq, m.user, m.text])).toEqual([
      [1, 'alice', 'hello'],
      [2, 'bob', 'hi alice'],
    ]);
    expect(a.confirmed).toEqual(b.confirmed);
    // Sending marks the room read for the sender.
    expect(b.current?.receipts).toEqual({ alice: 1, bob: 2 });
  });

  it('reactions toggle per user; receipts only move forward and never past the last message', async () => {
    const server = await chatServer();
    const alice = await client(server, 'alice');
    const bob = await client(server, 'bob');
    const a = alice.doc<typeof roomMutators, RoomDoc>('room:t2', { mutators: roomMutators });
    const b = bob.doc<typeof roomMutators, RoomDoc>('room:t2', { mutators: roomMutators });
    await Promise.all([a.ready, b.ready]);
    for (const [i, text] of ['one', 'two', 'three'].entries()) await a.mutate.send({ id: `m${i}`, text });
    await waitForValue(() => b.current?.messages.length, 3, 5_000, 'message count at bob');
    expect(unreadCount(b.current, 'bob')).toBe(3);
    expect(unreadCount(a.current, 'alice')).toBe(0);

    await b.mutate.react({ messageId: 'm0', emoji: '🎉' });
    await a.mutate.react({ messageId: 'm0', emoji: '🎉' });
    await b.mutate.react({ messageId: 'm0', emoji: '👍' });
    await b.mutate.react({ messageId: 'm0', emoji: '👍' });
    await waitFor(
      () => a.version === b.version && a.status === 'synced',
      5_000,
      () => `wanted both at one version and alice synced, saw alice v${a.version} ${a.status}, bob v${b.version}`,
    );
    expect(a.current?.messages[0]?.reactions).toEqual({ '🎉': ['bob', 'alice'] });
    await expect(b.mutate.react({ messageId: 'm0', emoji: '💩' as '👍' })).rejects.toMatchObject({
      code: 'invalid_args',
    });

    await b.mutate.read({ seq: 99 });
    await b.mutate.read({ seq: 1 });
    await waitForValue(
      () => ({ atAlice: a.confirmed?.receipts.bob, atBob: b.confirmed?.receipts.bob }),
      { atAlice: 3, atBob: 3 },
      5_000,
      "bob's confirmed read receipt",
    );
    expect(unreadCount(b.current, 'bob')).toBe(0);
  });

  it('rooms are created once per name in the lobby', async () => {
    const server = await chatServer();
    const alice = await client(server, 'alice');
    const lobby = alice.doc<typeof lobbyMutators, LobbyDoc>(LOBBY_DOC, { mutators: lobbyMutators });
    await lobby.ready;
    expect(lobby.current?.rooms.map((r) => r.id)).toEqual(['general', 'random']);
    await lobby.mutate.createRoom({ id: slug('Design Review'), name: 'Design Review' });
    await lobby.mutate.createRoom({ id: 'other-id', name: 'design review' });
    await waitForValue(() => lobby.status, 'synced', 5_000, 'lobby status');
    expect(lobby.confirmed?.rooms.map((r) => [r.id, r.name, r.createdBy])).toEqual([
      ['general', 'general', 'syncline'],
      ['random', 'random', 'syncline'],
      ['design-review', 'design-review', 'alice'],
    ]);
  });

  it('bounds what users control: room count and name, message text, reactions, and the weight of a room', async () => {
    const server = await chatServer();
    const alice = await client(server, 'alice');
    const lobby = alice.doc<typeof lobbyMutators, LobbyDoc>(LOBBY_DOC, { mutators: lobbyMutators });
    await lobby.ready;
    await expect(lobby.mutate.createRoom({ id: 'long', name: 'x'.repeat(41) })).rejects.toMatchObject({
      code: 'invalid_args',
    });
    for (let i = lobby.current?.rooms.length ?? 0; i < MAX_ROOMS; i++) {
      await server.docs.mutate(LOBBY_DOC, 'createRoom', { id: `r${i}`, name: `room ${i}` });
    }
    await waitForValue(() => lobby.current?.rooms.length, MAX_ROOMS, 5_000, 'room count (a full lobby)');
    const full = await lobby.mutate.createRoom({ id: 'one-more', name: 'one more' }).catch((e: unknown) => e);
    expect(full).toMatchObject({ code: 'mutation_failed' });
    expect(refusalText(full)).toBe(`The lobby is full: there can be at most ${MAX_ROOMS} rooms.`);
    expect((await server.docs.get(LOBBY_DOC)).state).toMatchObject({ rooms: { length: MAX_ROOMS } });

    const room = alice.doc<typeof roomMutators, RoomDoc>('room:bounds', { mutators: roomMutators });
    await room.ready;
    const ctl = await room.mutate.send({ id: 'c1', text: 'bell \u0007' }).catch((e: unknown) => e);
    expect(refusalText(ctl)).toBe('A message cannot contain control characters.');
    await expect(room.mutate.send({ id: 'c2', text: 'y'.repeat(MAX_TEXT + 1) })).rejects.toMatchObject({
      code: 'invalid_args',
    });
    await room.mutate.send({ id: 'm0', text: 'react to me' });
    for (let u = 0; u < MAX_REACTIONS_PER_MESSAGE; u++) {
      await server.docs.mutate('room:bounds', 'react', { messageId: 'm0', emoji: '👍' }, { userId: `u${u}` });
    }
    const tooMany = await room.mutate.react({ messageId: 'm0', emoji: '🎉' }).catch((e: unknown) => e);
    expect(refusalText(tooMany)).toContain('the most reactions it can take');

    // Long messages from many users: the oldest drop off before the room outgrows its budget.
    const text = '日本語'.repeat(Math.floor(MAX_TEXT / 3));
    for (let i = 0; i < 140; i++) {
      await server.docs.mutate('room:bounds', 'send', { id: `big${i}`, text }, { userId: `user${i % 7}` });
    }
    const state = (await server.docs.get('room:bounds')).state as RoomDoc;
    expect(state.messages.at(-1)?.id).toBe('big139');
    expect(state.messages.length).toBeLessThan(141);
    expect(roomBytes(state)).toBeLessThanOrEqual(ROOM_BUDGET_BYTES);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThanOrEqual(roomBytes(state));
  });

  it('tells the user why the server refused something', () => {
    expect(refusalText({ code: 'doc_too_large', message: 'x' })).toContain('too much');
    expect(refusalText({ code: 'mutation_failed', message: 'Mutator "send" failed: nope' })).toBe('nope');
  });
});

describe('chat example avatars and names', () => {
  it('colors an avatar from the exact user id: stable, case-sensitive, spread over the palette', () => {
    expect(colorOf('Ada')).toBe(colorOf('Ada'));
    // Ids that differ only in case, with different numbers of capitals, always differ in color.
    for (const [a, b] of [
      ['Ada', 'ada'],
      ['ADA', 'Ada'],
      ['Grace', 'grace'],
      ['Grace Hopper', 'grace hopper'],
      ['Élodie', 'élodie'],
    ] as const) {
      expect(colorOf(a), `${a} / ${b}`).not.toBe(colorOf(b));
    }
    const used = new Set(Array.from({ length: 200 }, (_, i) => colorOf(`user${i}`)));
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const c of used) expect(c).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('takes initials as typed, whole characters only', () => {
    expect(initialsOf('Ada')).toBe('Ad');
    expect(initialsOf('ada')).toBe('ad');
    expect(initialsOf('Grace Hopper')).toBe('GH');
    expect(initialsOf('grace_hopper')).toBe('gh');
    expect(initialsOf('J')).toBe('J');
    expect(initialsOf('José Núñez')).toBe('JN');
    expect(initialsOf('𝒜da')).toBe('𝒜d');
    expect(initialsOf('  ')).toBe('?');
  });

  it('accepts the names the dev sign-in takes and says why it refuses the others', () => {
    for (const ok of ['Ada', 'ada', 'José Núñez', 'O.Neil-Smith_2', '李雷', 'x'.repeat(MAX_NAME)]) {
      expect(nameProblem(ok), ok).toBeUndefined();
    }
    // An accent typed as a separate mark is merged into its letter.
    expect(normalizeName(' Jose\u0301 ')).toBe('José');
    expect(nameProblem('Jose\u0301')).toBeUndefined();
    expect(nameProblem('')).toBe('Enter a name.');
    expect(nameProblem('x'.repeat(MAX_NAME + 1))).toContain(`at most ${MAX_NAME}`);
    expect(nameProblem('Ada 🚀')).toContain('🚀 is not allowed');
    // The joiner and variation selector inside an emoji are not listed.
    expect(nameProblem('Ada 👩‍💻')).toMatch(/👩 💻 are not allowed\.$/);
    expect(nameProblem('<script>')).toContain('< > are not allowed');
  });
});
