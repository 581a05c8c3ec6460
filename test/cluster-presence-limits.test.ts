import type { SynclineClient } from '@syncline/client';
import type { PresenceEntry } from '@syncline/protocol';
import { connectRedisCluster, type RedisClusterParts } from '@syncline/redis';
import type { ServerOptions, SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { client, startServer, TEST_NAMESPACES, waitFor, waitState } from './helpers.js';

/** One node of a cluster on the machine's Redis, running in this process. */
async function node(
  prefix: string,
  options: Partial<ServerOptions> = {},
): Promise<{ server: SynclineServer; parts: RedisClusterParts }> {
  const parts = await connectRedisCluster({ url: REDIS_URL, prefix });
  const server = await startServer({
    namespaces: { ...TEST_NAMESPACES, room: { presence: { maxMembers: 4 } } },
    broker: parts.broker,
    presence: { store: parts.presence.store, fanout: parts.presence.fanout, graceMs: 200 },
    revocations: parts.revocations,
    channelCounts: parts.channelCounts,
    limits: { presenceEntriesPerUser: 2 },
    ...options,
  });
  return { server, parts };
}

async function connected(server: SynclineServer, user: string): Promise<SynclineClient> {
  const c = await client(server, user);
  await waitState(c, 'connected');
  return c;
}

/** Enters under a clientId of its own per connection (as the SDK does). */
function enter(c: SynclineClient, channel: string): Promise<unknown> {
  return c.request({ type: 'presence.enter', channel, clientId: `device-${c.info?.session ?? ''}`, state: null });
}

const keys = (entries: readonly PresenceEntry[]): string[] => entries.map((e) => `${e.user}/${e.clientId}`).sort();

describe.runIf(redisService.available)('presence limits across nodes (Redis)', () => {
  it('counts a user’s entries and a channel’s members over every node', async () => {
    const prefix = testPrefix();
    const a = await node(prefix);
    const b = await node(prefix);
    const channel = `room:limits-${Date.now().toString(36)}`;

    // Mallory on two nodes: two entries in all, the third connection is refused wherever it is.
    await enter(await connected(a.server, 'mallory'), channel);
    await enter(await connected(b.server, 'mallory'), channel);
    await expect(enter(await connected(a.server, 'mallory'), channel)).rejects.toMatchObject({
      code: 'limit_exceeded',
      details: { limit: 'presenceEntriesPerUser', value: 2 },
    });
    // Two more users fill the channel (maxMembers 4); the fifth entry is refused on either node.
    await enter(await connected(b.server, 'ann'), channel);
    await enter(await connected(a.server, 'ben'), channel);
    await expect(enter(await connected(b.server, 'cat'), channel)).rejects.toMatchObject({
      code: 'limit_exceeded',
      details: { limit: 'maxMembers', value: 4 },
    });
    expect((await a.server.presence.list(channel)).entries).toHaveLength(4);
  });

  it('a watcher gets a member list far larger than its send queue from the shared store, in parts', async () => {
    const prefix = testPrefix();
    const maxQueueBytes = 128 * 1024;
    const a = await node(prefix, {
      namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
      maxQueueBytes,
    });
    const channel = `room:big-${Date.now().toString(36)}`;
    const now = Date.now();
    const pad = 'y'.repeat(1_000);
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        a.parts.presence.store.enter(
          channel,
          { user: `crowd-${i % 3}`, clientId: `c${i}`, state: { i, pad }, enteredAt: now, updatedAt: now },
          { node: 'elsewhere', session: `s${i}` },
        ),
      ),
    );
    const w = await connected(a.server, 'watcher');
    const changes: string[] = [];
    w.on('state', (c) => changes.push(`${c.previous}->${c.state}:${String(c.code ?? '')}`));
    const pw = w.presence(channel);
    await waitFor(
      () => pw.members.synced,
      15_000,
      () => `wanted the watcher's members synced, saw unsynced (state changes: ${changes.join(', ')})`,
    );
    const list = await a.server.presence.list(channel);
    expect(JSON.stringify(list.entries).length).toBeGreaterThan(4 * maxQueueBytes);
    const expected = keys(list.entries);
    expect(keys(pw.members.current.flatMap((m) => m.entries))).toEqual(expected);
    expect(expected).toHaveLength(600);
    expect(changes).toEqual([]);
  });
});
