import type { PresenceChannel, SynclineClient } from '@syncline/client';
import type { PresenceEntry } from '@syncline/protocol';
import { MemoryPresenceStore, type ServerOptions, type SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { client, startServer, TEST_NAMESPACES, waitFor, waitForValue, waitState } from './helpers.js';

const ROOM = 'room:crowd';

function presenceServer(
  options: Partial<ServerOptions> & { room?: { maxMembers: number } } = {},
): Promise<SynclineServer> {
  const { room, ...rest } = options;
  return startServer({
    namespaces: { ...TEST_NAMESPACES, room: { presence: room ?? true } },
    presence: { graceMs: 5_000, updateIntervalMs: 20 },
    ...rest,
  });
}

async function connected(server: SynclineServer, user: string): Promise<SynclineClient> {
  const c = await client(server, user);
  await waitState(c, 'connected');
  return c;
}

/** `user/clientId` of every entry, sorted. */
function keys(entries: readonly PresenceEntry[]): string[] {
  return entries.map((e) => `${e.user}/${e.clientId}`).sort();
}

function memberKeys(p: PresenceChannel): string[] {
  return keys(p.members.current.flatMap((m) => m.entries));
}

async function serverKeys(server: SynclineServer): Promise<string[]> {
  return keys((await server.presence.list(ROOM)).entries);
}

/** Records the `presence.diff` pushes a client receives for ROOM, as `action:user/clientId`. */
function recordDiffs(c: SynclineClient): string[] {
  const seen: string[] = [];
  c.on('message', (m) => {
    if (m.type !== 'presence.diff' || m.channel !== ROOM) return;
    const e = m.entry as PresenceEntry;
    seen.push(`${String(m.action)}:${e.user}/${e.clientId}`);
  });
  return seen;
}

describe('presence limits', () => {
  it('keeps one entry per connection and channel: another clientId replaces it (leave, then join)', async () => {
    const server = await presenceServer();
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const diffs = recordDiffs(w);

    const m = await connected(server, 'mallory');
    await m.request({ type: 'presence.enter', channel: ROOM, clientId: 'one', state: { n: 1 } });
    await m.request({ type: 'presence.enter', channel: ROOM, clientId: 'two', state: { n: 2 } });
    await expect
      .poll(() => diffs, { timeout: 5_000 })
      .toEqual(['join:mallory/one', 'leave:mallory/one', 'join:mallory/two']);

    // A flood of enters with a new clientId each, sent at once, still holds one entry: the last.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        m.request({
          type: 'presence.enter',
          channel: ROOM,
          clientId: `flood-${i}`,
          state: { i, pad: 'x'.repeat(1_000) },
        }),
      ),
    );
    expect(await serverKeys(server)).toEqual(['mallory/flood-199']);
    // `presence.update` that enters under another clientId replaces it too.
    await m.request({ type: 'presence.update', channel: ROOM, clientId: 'upd', state: null });
    expect(await serverKeys(server)).toEqual(['mallory/upd']);
    await expect.poll(() => memberKeys(pw), { timeout: 5_000 }).toEqual(['mallory/upd']);
    // Other channels are separate: one entry in each.
    await m.request({ type: 'presence.enter', channel: 'room:other', clientId: 'elsewhere', state: null });
    expect(keys((await server.presence.list('room:other')).entries)).toEqual(['mallory/elsewhere']);
    expect(await serverKeys(server)).toEqual(['mallory/upd']);
  });

  it('caps a user at presenceEntriesPerUser entries per channel across connections; a reconnect takes its own over', async () => {
    const server = await presenceServer({ limits: { presenceEntriesPerUser: 3 } });
    const conns = await Promise.all(Array.from({ length: 5 }, () => connected(server, 'mallory')));
    const rooms = conns.map((c) => c.presence(ROOM));
    const results = await Promise.allSettled(rooms.map((p, i) => p.enter({ i })));
    const admitted = rooms.filter((_, i) => results[i]?.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(admitted).toHaveLength(3);
    expect(refused).toEqual([
      expect.objectContaining({ code: 'limit_exceeded', details: { limit: 'presenceEntriesPerUser', value: 3 } }),
      expect.objectContaining({ code: 'limit_exceeded', details: { limit: 'presenceEntriesPerUser', value: 3 } }),
    ]);
    const before = await serverKeys(server);
    expect(before).toHaveLength(3);
    // Other users are not affected.
    const bob = await connected(server, 'bob');
    await bob.presence(ROOM).enter({});

    // Every connection of mallory drops abruptly: the entries stay for the grace period and the
    // reconnected clients take theirs over (same clientId), without counting twice.
    const sessions = new Set(conns.map((c) => c.info?.session));
    for (const s of [...server.core.sessionsOf('mallory')]) s.close('HEARTBEAT_TIMEOUT', 'simulated dead link');
    await waitFor(
      () => conns.every((c) => c.state === 'connected' && !sessions.has(c.info?.session)),
      10_000,
      () =>
        `wanted every mallory connection back in a new session, saw ${conns
          .map((c) => `${c.state}${sessions.has(c.info?.session) ? ' (old session)' : ''}`)
          .join(', ')}`,
    );
    await Promise.all(admitted.map((p, i) => p.update({ i, back: true })));
    expect((await serverKeys(server)).filter((k) => k.startsWith('mallory/'))).toEqual(before);

    // A slot freed by a clean close lets a refused connection in.
    const leaving = conns[rooms.indexOf(admitted[0] as PresenceChannel)] as SynclineClient;
    leaving.close();
    const late = rooms.find((p) => !admitted.includes(p)) as PresenceChannel;
    await expect
      .poll(
        async () =>
          late.enter({ late: true }).then(
            () => 'in',
            (e: { code?: string }) => e.code,
          ),
        { timeout: 5_000 },
      )
      .toBe('in');
    expect((await server.presence.list(ROOM)).entries.filter((e) => e.user === 'mallory')).toHaveLength(3);
  });

  it('refuses the entry past the namespace maxMembers', async () => {
    const server = await presenceServer({ room: { maxMembers: 3 } });
    const users = ['ann', 'ben', 'cat', 'dan'];
    const rooms = await Promise.all(users.map(async (u) => (await connected(server, u)).presence(ROOM)));
    for (const p of rooms.slice(0, 3)) await p.enter({});
    await expect(rooms[3]?.enter({})).rejects.toMatchObject({
      code: 'limit_exceeded',
      details: { limit: 'maxMembers', value: 3 },
    });
    expect(await serverKeys(server)).toHaveLength(3);
    await rooms[0]?.leave();
    await rooms[3]?.enter({ second: true });
    expect((await server.presence.list(ROOM)).entries.map((e) => e.user).sort()).toEqual(['ben', 'cat', 'dan']);
  });

  it('sends a member list far larger than the send queue in parts: the watcher gets all of it and stays', async () => {
    const maxQueueBytes = 256 * 1024;
    const store = new MemoryPresenceStore();
    const server = await presenceServer({ maxQueueBytes, presence: { store, graceMs: 5_000, updateIntervalMs: 20 } });
    // 2,000 entries of ~1 KB from four users, held by another node of the cluster.
    const now = Date.now();
    const pad = 'x'.repeat(1_000);
    for (let i = 0; i < 2_000; i++) {
      const entry: PresenceEntry = {
        user: `crowd-${i % 4}`,
        clientId: `c${i}`,
        state: { i, pad },
        enteredAt: now,
        updatedAt: now,
      };
      await store.enter(ROOM, entry, { node: 'other-node', session: `s${i}` });
    }
    const listBytes = JSON.stringify((await server.presence.list(ROOM)).entries).length;
    expect(listBytes).toBeGreaterThan(7 * maxQueueBytes);

    const w = await connected(server, 'watcher');
    const stateChanges: string[] = [];
    w.on('state', (c) => stateChanges.push(`${c.previous}->${c.state}:${String(c.code ?? '')}`));
    let parts = 0;
    w.on('message', (m) => {
      if (m.type === 'presence.state' && m.channel === ROOM) parts += 1;
    });
    const pw = w.presence(ROOM);
    // Changes while the parts travel are not lost (entered without watching).
    const a = await connected(server, 'alice');
    const b = await connected(server, 'bob');
    const enter = (c: SynclineClient) => c.request({ type: 'presence.enter', channel: ROOM, clientId: 'x', state: 1 });
    await Promise.all([enter(a), enter(b)]);
    await b.request({ type: 'presence.leave', channel: ROOM, clientId: 'x' });

    await waitFor(
      () => pw.members.synced,
      15_000,
      () => `wanted the watcher's members synced, saw unsynced (state changes: ${stateChanges.join(', ')})`,
    );
    const expected = await serverKeys(server);
    expect(expected).toHaveLength(2_001);
    await expect.poll(() => memberKeys(pw), { timeout: 10_000 }).toEqual(expected);
    expect(parts).toBeGreaterThan(1);
    expect(stateChanges).toEqual([]);
    expect(w.state).toBe('connected');
    expect(pw.members.get('crowd-3')?.entries).toHaveLength(500);
  });
});
