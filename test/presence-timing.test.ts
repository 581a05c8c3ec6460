import type { PresenceChannel, SynclineClient } from '@syncline/client';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import {
  client,
  describeValue,
  rawSocket,
  startServer,
  TEST_NAMESPACES,
  token,
  waitFor,
  waitForValue,
  waitState,
} from './helpers.js';

const ROOM = 'room:grace';

function presenceServer(presence: { graceMs?: number; updateIntervalMs?: number }): Promise<SynclineServer> {
  return startServer({ namespaces: { ...TEST_NAMESPACES, room: { presence: true } }, presence });
}

async function connected(server: SynclineServer, user: string): Promise<SynclineClient> {
  const c = await client(server, user);
  await waitState(c, 'connected');
  return c;
}

/** The users a presence channel lists, for failure messages. */
function users(p: PresenceChannel): string[] {
  return p.members.current.map((m) => m.user);
}

/** Cuts a user's connection from the server side as a dead link would (no goodbye). */
function cutAbruptly(server: SynclineServer, user: string): void {
  for (const s of [...server.core.sessionsOf(user)]) s.close('HEARTBEAT_TIMEOUT', 'simulated dead link');
}

describe('presence grace period', () => {
  it('a reconnect inside the grace period produces no leave/join pair', async () => {
    const graceMs = 1_500;
    const server = await presenceServer({ graceMs, updateIntervalMs: 20 });
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const a = await connected(server, 'alice');
    const pa = a.presence(ROOM);
    await pa.enter({ cursor: 1 });
    await waitFor(
      () => pw.members.get('alice') !== undefined,
      5_000,
      () => `wanted alice present, saw members ${describeValue(users(pw))}`,
    );

    const events: string[] = [];
    pw.members.on('join', (e) => events.push(`join:${e.member.user}`));
    pw.members.on('leave', (e) => events.push(`leave:${e.member.user}`));
    const firstSession = a.info?.session;
    const cutAt = Date.now();
    cutAbruptly(server, 'alice');
    await waitFor(
      () => a.state === 'connected' && a.info?.session !== firstSession,
      10_000,
      () =>
        `wanted alice connected in a new session, saw state ${a.state} in ${a.info?.session === firstSession ? 'the first' : 'a new'} session`,
    );

    // Let the grace period of the old connection run out, then make sure any
    // diff it would have caused has been delivered (a marker diff after it).
    await waitFor(() => Date.now() - cutAt > graceMs + 300, graceMs + 5_000, 'grace elapsed');
    const b = await connected(server, 'bob');
    await b.presence(ROOM).enter({ marker: true });
    await waitFor(
      () => pw.members.get('bob') !== undefined,
      5_000,
      () => `wanted the marker bob present, saw members ${describeValue(users(pw))}`,
    );

    expect(events).toEqual(['join:bob']);
    expect(pw.members.get('alice')?.entries).toHaveLength(1);
    expect(pw.members.get('alice')?.state).toEqual({ cursor: 1 });
    // The entry is now owned by the new connection: a later abrupt cut without return leaves.
    const entries = (await server.presence.list(ROOM)).entries.filter((e) => e.user === 'alice');
    expect(entries).toHaveLength(1);
  });

  it('an abrupt disconnect without return leaves after the grace period', async () => {
    const graceMs = 800;
    const server = await presenceServer({ graceMs, updateIntervalMs: 20 });
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const leftAt = new Map<string, number>();
    pw.members.on('leave', (e) => leftAt.set(e.member.user, Date.now()));

    const a = await connected(server, 'alice');
    await a.presence(ROOM).enter({});
    const b = await connected(server, 'bob');
    await b.presence(ROOM).enter({});
    await waitForValue(() => pw.members.current.length, 2, 5_000, 'member count');

    const cutAt = Date.now();
    cutAbruptly(server, 'alice');
    a.close();
    await waitFor(
      () => leftAt.has('alice'),
      graceMs + 5_000,
      () => `wanted alice to leave, saw leaves of ${describeValue([...leftAt.keys()])}`,
    );
    expect((leftAt.get('alice') as number) - cutAt).toBeGreaterThanOrEqual(graceMs - 50);

    b.close();
    await waitFor(
      () => leftAt.has('bob'),
      5_000,
      () => `wanted bob to leave, saw leaves of ${describeValue([...leftAt.keys()])}`,
    );
    expect(pw.members.current).toEqual([]);
  });

  it('a clean close and a revocation remove the entry at once (no grace period)', async () => {
    const server = await presenceServer({ graceMs: 60_000, updateIntervalMs: 20 });
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const a = await connected(server, 'mallory');
    await a.presence(ROOM).enter({});
    await waitFor(
      () => pw.members.get('mallory') !== undefined,
      5_000,
      () => `wanted mallory present, saw members ${describeValue(users(pw))}`,
    );
    server.revokeUser('mallory');
    // The grace period is a minute: a leave within seconds proves it was skipped.
    await waitFor(
      () => pw.members.get('mallory') === undefined,
      5_000,
      () => `wanted mallory gone, saw members ${describeValue(users(pw))}`,
    );
    const b = await connected(server, 'bob');
    await b.presence(ROOM).enter({});
    await waitFor(
      () => pw.members.get('bob') !== undefined,
      5_000,
      () => `wanted bob present, saw members ${describeValue(users(pw))}`,
    );
    b.close();
    await waitFor(
      () => pw.members.get('bob') === undefined,
      5_000,
      () => `wanted bob gone, saw members ${describeValue(users(pw))}`,
    );
  });
});

describe('presence update coalescing', () => {
  it('bounds the rate of update diffs a flood of updates produces, latest wins', async () => {
    const intervalMs = 200;
    const server = await presenceServer({ graceMs: 1_000, updateIntervalMs: intervalMs });
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    let updates = 0;
    pw.members.on('update', (e) => {
      if (e.member.user === 'cursor') updates++;
    });

    // A raw connection floods 300 updates (3 frames of 100) as fast as it can.
    const raw = await rawSocket(server);
    raw.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: await token('cursor') }));
    await raw.next((m) => m.type === 'reply' && m.id === 1);
    raw.send(JSON.stringify({ type: 'presence.enter', id: 2, channel: ROOM, clientId: 'c1', state: { x: -1 } }));
    await raw.next((m) => m.type === 'reply' && m.id === 2);
    await waitFor(
      () => pw.members.get('cursor') !== undefined,
      5_000,
      () => `wanted cursor present, saw members ${describeValue(users(pw))}`,
    );
    const start = Date.now();
    let id = 10;
    for (let frame = 0; frame < 3; frame++) {
      const batch = [];
      for (let i = 0; i < 100; i++) {
        const x = frame * 100 + i;
        batch.push({ type: 'presence.update', id: id++, channel: ROOM, clientId: 'c1', state: { x } });
      }
      raw.send(JSON.stringify(batch));
    }
    await waitForValue(() => pw.members.get('cursor')?.state, { x: 299 }, 10_000, "cursor's state");
    const elapsed = Date.now() - start;
    // Every update was acknowledged, none failed.
    await waitForValue(
      () => raw.messages.filter((m) => m.type === 'reply' && (m.id as number) >= 10).length,
      300,
      5_000,
      'update reply count',
    );
    expect(raw.messages.filter((m) => m.type === 'error')).toEqual([]);
    // At most one diff per interval (plus the first, sent at once, and the trailing one).
    expect(updates).toBeGreaterThanOrEqual(1);
    expect(updates).toBeLessThanOrEqual(Math.ceil(elapsed / intervalMs) + 2);
    expect(updates).toBeLessThan(300);
  });

  it('the client coalesces its own updates latest-wins', async () => {
    const server = await presenceServer({ graceMs: 1_000, updateIntervalMs: 50 });
    const w = await connected(server, 'watcher');
    const pw = w.presence(ROOM);
    await waitForValue(() => pw.members.synced, true, 5_000, "synced flag of the watcher's members");
    const a = await connected(server, 'alice');
    const pa = a.presence(ROOM);
    await pa.enter({ x: 0 });
    const done = [];
    for (let x = 1; x <= 500; x++) done.push(pa.update({ x }));
    await Promise.all(done);
    await waitForValue(() => pw.members.get('alice')?.state, { x: 500 }, 5_000, "alice's state");
    expect(pa.state).toEqual({ x: 500 });
  });
});
