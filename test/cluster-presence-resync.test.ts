import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PresenceMember, SynclineClient } from '@syncline/client';
import { connectRedisCluster } from '@syncline/redis';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisService, testPrefix } from './cluster/redis-env.js';
import { client, defer, startServer, TEST_NAMESPACES, waitFor, waitForAtLeast, waitForValue } from './helpers.js';

/** A TCP proxy in front of Redis for one node: `down()` cuts its connections and refuses new ones. */
async function redisLink(target: string): Promise<{ url: string; down(): void; up(): void; accepted(): number }> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let isDown = false;
  let accepted = 0;
  const server: Server = createServer((inbound) => {
    if (isDown) {
      inbound.destroy();
      return;
    }
    accepted++;
    const outbound = connect(Number(t.port || 6379), t.hostname);
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    accepted: () => accepted,
  };
}

async function node(redisUrl: string, prefix: string) {
  const parts = await connectRedisCluster({ url: redisUrl, prefix });
  return startServer({
    namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    broker: parts.broker,
    presence: { store: parts.presence.store, fanout: parts.presence.fanout, graceMs: 200 },
    revocations: parts.revocations,
    channelCounts: parts.channelCounts,
  });
}

const users = (members: readonly PresenceMember[]): string => members.map((m) => m.user).join(',');

describe.runIf(redisService.available)('presence resync after a lost Redis subscription', () => {
  it('a watcher on a node whose subscription was down gets the true list once it is back, without duplicate joins', async () => {
    const prefix = testPrefix();
    const link = await redisLink(REDIS_URL);
    const a = await node(REDIS_URL, prefix);
    const b = await node(link.url, prefix);
    const channel = `room:resync-${Date.now().toString(36)}`;

    const enter = async (user: string): Promise<SynclineClient> => {
      const c = await client(a, user);
      await c.presence(channel).enter({ user });
      return c;
    };
    const bob = await enter('bob');
    const dave = await enter('dave');

    // The watcher is connected to node B; a second watcher on A sees the truth.
    const watcher = await client(b, 'watcher');
    const watch = watcher.presence(channel);
    const joins: string[] = [];
    const leaves: string[] = [];
    let syncs = 0;
    watch.members.on('join', (e) => joins.push(e.member.user));
    watch.members.on('leave', (e) => leaves.push(e.member.user));
    watch.members.on('sync', () => syncs++);
    const states: string[] = [];
    watcher.on('state', (s) => states.push(s.state));
    const truth = (await client(a, 'truth')).presence(channel);
    await waitForValue(() => users(watch.members.current), 'bob,dave', 10_000, "users on B's watcher");
    await waitForValue(() => users(truth.members.current), 'bob,dave', 10_000, "users on A's watcher");
    const syncsBefore = syncs;
    states.length = 0;

    // Node B loses Redis (its subscription included); carol enters and dave leaves on A meanwhile.
    link.down();
    const acceptedBefore = link.accepted();
    const carol = await enter('carol');
    await dave.presence(channel).leave();
    await waitForValue(() => users(truth.members.current), 'bob,carol', 10_000, "users on A's watcher");
    // B's watcher missed both diffs (its connection to B is fine, B's subscription is not).
    expect(users(watch.members.current)).toBe('bob,dave');

    // Redis is reachable again: B resubscribes, re-reads the list and resynchronises the watcher.
    link.up();
    await waitForAtLeast(() => link.accepted(), acceptedBefore + 1, 15_000, 'Redis connections accepted from node B');
    await waitForValue(() => users(watch.members.current), 'bob,carol', 15_000, "users on B's watcher (caught up)");
    expect(syncs).toBeGreaterThan(syncsBefore);
    // The watcher's own connection never dropped: the server pushed the fresh list.
    expect(states).toEqual([]);

    // Later changes keep flowing to B, and nothing was reported twice.
    await bob.presence(channel).leave();
    await carol.presence(channel).update({ user: 'carol', typing: true });
    await waitFor(
      () =>
        users(watch.members.current) === 'carol' &&
        (watch.members.get('carol')?.state as { typing?: boolean } | undefined)?.typing === true,
      10_000,
      () =>
        `wanted carol alone and typing on B's watcher, saw ${users(watch.members.current)} (carol's state ${JSON.stringify(watch.members.get('carol')?.state)})`,
    );
    expect(joins.sort()).toEqual(['bob', 'carol', 'dave']);
    expect(leaves.sort()).toEqual(['bob', 'dave']);
    expect(users(watch.members.current)).toBe(users(truth.members.current));
  }, 60_000);
});
