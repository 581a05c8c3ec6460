import type { PresenceMember, SynclineClient } from '@syncline/client';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import {
  client,
  describeValue,
  startServer,
  TEST_NAMESPACES,
  token,
  waitFor,
  waitForValue,
  waitState,
} from './helpers.js';

const ROOM = 'room:lobby';

function presenceServer(presence: { graceMs?: number; updateIntervalMs?: number } = {}): Promise<SynclineServer> {
  return startServer({
    namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    presence: { graceMs: 1_000, updateIntervalMs: 50, ...presence },
  });
}

function users(members: readonly PresenceMember[]): string[] {
  return members.map((m) => m.user);
}

async function connected(server: SynclineServer, user: string): Promise<SynclineClient> {
  const c = await client(server, user);
  await waitState(c, 'connected');
  return c;
}

describe('presence across three clients', () => {
  it('delivers the list first, then join, update and leave diffs', async () => {
    const server = await presenceServer();
    const a = await connected(server, 'alice');
    const b = await connected(server, 'bob');
    const c = await connected(server, 'carol');

    const pa = a.presence(ROOM);
    await pa.enter({ status: 'here' });
    const pb = b.presence(ROOM);
    await pb.enter({ status: 'typing' });

    // carol watches without entering: the list comes first.
    const pc = c.presence(ROOM);
    const events: string[] = [];
    pc.members.on('sync', (m) => events.push(`sync:${users(m).join(',')}`));
    pc.members.on('join', (e) => events.push(`join:${e.member.user}`));
    pc.members.on('update', (e) => events.push(`update:${e.member.user}`));
    pc.members.on('leave', (e) => events.push(`leave:${e.member.user}`));
    await waitForValue(() => pc.members.synced, true, 5_000, "synced flag of carol's members");
    expect(users(pc.members.current)).toEqual(['alice', 'bob']);
    expect(pc.members.get('bob')?.state).toEqual({ status: 'typing' });

    await pc.enter({ status: 'new' });
    await waitFor(
      () => users(pa.members.current).includes('carol'),
      5_000,
      () => `wanted carol among alice's members, saw ${describeValue(users(pa.members.current))}`,
    );
    await waitFor(
      () => users(pb.members.current).includes('carol'),
      5_000,
      () => `wanted carol among bob's members, saw ${describeValue(users(pb.members.current))}`,
    );

    await pb.update({ status: 'idle' });
    await waitForValue(() => pc.members.get('bob')?.state, { status: 'idle' }, 5_000, "bob's state at carol");
    await waitForValue(() => pa.members.get('bob')?.state, { status: 'idle' }, 5_000, "bob's state at alice");

    await pa.leave();
    await waitFor(
      () => !users(pc.members.current).includes('alice'),
      5_000,
      () => `wanted alice gone from carol's members, saw ${describeValue(users(pc.members.current))}`,
    );
    await waitFor(
      () => !users(pb.members.current).includes('alice'),
      5_000,
      () => `wanted alice gone from bob's members, saw ${describeValue(users(pb.members.current))}`,
    );

    // The initial list shows up as joins then `sync`; later changes as diffs.
    expect(events).toEqual(['join:alice', 'join:bob', 'sync:alice,bob', 'join:carol', 'update:bob', 'leave:alice']);

    // The server-side view agrees.
    const snap = await server.presence.list(ROOM);
    expect(snap.entries.map((e) => e.user).sort()).toEqual(['bob', 'carol']);
  });

  it('counts two connections of one user as one member with two entries', async () => {
    const server = await presenceServer();
    const watcher = await connected(server, 'watcher');
    const pw = watcher.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const joins: string[] = [];
    const leaves: string[] = [];
    pw.members.on('join', (e) => joins.push(e.member.user));
    pw.members.on('leave', (e) => leaves.push(e.member.user));

    const laptop = await connected(server, 'dana');
    const phone = await connected(server, 'dana');
    await laptop.presence(ROOM).enter({ device: 'laptop' });
    await phone.presence(ROOM).enter({ device: 'phone' });
    await waitForValue(() => pw.members.get('dana')?.entries.length, 2, 5_000, "dana's entry count");
    expect(pw.members.current).toHaveLength(1);
    expect(joins).toEqual(['dana']);

    // One device leaving keeps the member; the last one leaving removes it.
    await phone.presence(ROOM).leave();
    await waitForValue(() => pw.members.get('dana')?.entries.length, 1, 5_000, "dana's entry count");
    expect(leaves).toEqual([]);
    expect(pw.members.get('dana')?.state).toEqual({ device: 'laptop' });
    laptop.close();
    await waitForValue(() => users(pw.members.current), [], 5_000, 'members');
    expect(leaves).toEqual(['dana']);
  });

  it('refuses enter without the presence capability and in namespaces without presence', async () => {
    const server = await presenceServer();
    const t = await token('eve', [{ match: 'room:*', allow: ['subscribe'] }]);
    const eve = await client(server, 'eve', { token: t });
    await waitState(eve, 'connected');
    const p = eve.presence(ROOM);
    await expect(p.enter({})).rejects.toMatchObject({ code: 'forbidden' });
    // Watching only needs `subscribe`.
    await waitForValue(() => p.members.synced, true, 5_000, "synced flag of eve's members");

    const a = await connected(server, 'alice');
    await expect(a.presence('chat:x').enter({})).rejects.toMatchObject({ code: 'presence_disabled' });
    const big = { blob: 'x'.repeat(5_000) };
    await expect(a.presence(ROOM).enter(big)).rejects.toMatchObject({ code: 'limit_exceeded' });
    expect((await server.presence.list(ROOM)).entries).toEqual([]);
  });
});
