import { describe, expect, it } from 'vitest';
import { API_KEY, CLUSTER_MUTATORS, clusterClient, startCluster } from './cluster/cluster.js';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { redisService } from './cluster/redis-env.js';
import { waitFor, waitForValue } from './helpers.js';

interface Counter {
  count: number;
  log: string[];
}

const services = redisService.available && postgresService.available;

describe.runIf(services)('documents and presence across three nodes (Redis + PostgreSQL)', () => {
  it('concurrent mutations of one document on three nodes converge to one history, none lost or doubled', async () => {
    const { nodes } = await startCluster({ nodes: 3, postgresUrl: DATABASE_URL });
    const urls = nodes.map((n) => n.url);
    const doc = `ctr:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const clients = await Promise.all([0, 1, 2].map((i) => clusterClient(urls, `writer-${i}`, i)));
    const replicas = clients.map((c) => c.doc(doc, { mutators: CLUSTER_MUTATORS }));
    await Promise.all(replicas.map((r) => r.ready));
    const perClient = 25;
    const confirmations: Promise<unknown>[] = [];
    for (let k = 0; k < perClient; k++) {
      replicas.forEach((r, i) => {
        confirmations.push(r.mutate.add({ tag: `${i}-${k}` }));
      });
    }
    await Promise.all(confirmations);
    const total = perClient * 3;
    await waitFor(
      () => replicas.every((r) => (r.current as Counter | undefined)?.count === total && r.pendingCount === 0),
      20_000,
      () =>
        `wanted count ${total} and nothing pending at every replica, saw ${replicas
          .map((r) => `count ${(r.current as Counter | undefined)?.count} pending ${r.pendingCount}`)
          .join('; ')}`,
    );
    const states = replicas.map((r) => r.current as Counter);
    for (const s of states) {
      expect(s).toEqual(states[0]);
      expect(new Set(s.log).size).toBe(total);
      // Each writer's mutations keep their order in the one history.
      for (let i = 0; i < 3; i++) {
        const mine = s.log.filter((t) => t.startsWith(`${i}-`)).map((t) => Number(t.split('-')[1]));
        expect(mine).toEqual(Array.from({ length: perClient }, (_, k) => k));
      }
    }
    // Every node serves the same committed state.
    for (const url of urls) {
      const res = await fetch(`${url}/v1/docs/${encodeURIComponent(doc)}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const body = (await res.json()) as { version: number; state: Counter };
      expect(body.version).toBe(total);
      expect(body.state).toEqual(states[0]);
    }
  }, 60_000);

  it('a node killed with -9 loses its presence entries after the node TTL', async () => {
    const { nodes } = await startCluster({ nodes: 3 });
    const urls = nodes.map((n) => n.url);
    const channel = `room:${Date.now().toString(36)}`;
    const watcher = await clusterClient(urls, 'watcher', 0);
    const watch = watcher.presence(channel);
    await watch.enter({ role: 'watcher' });
    // The victim's client only knows its own node, so it cannot come back elsewhere.
    const victimUrl = nodes[2]?.url as string;
    const victim = await clusterClient([victimUrl], 'victim', 0, {
      reconnect: { minDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    await victim.presence(channel).enter({ role: 'victim' });
    const survivor = await clusterClient(urls, 'survivor', 1);
    await survivor.presence(channel).enter({ role: 'survivor' });
    const users = () => watch.members.current.map((m) => m.user).sort();
    await waitForValue(() => users().join(), 'survivor,victim,watcher', 10_000, 'present users');
    nodes[2]?.proc.kill('SIGKILL');
    await nodes[2]?.exited;
    await waitForValue(() => users().join(), 'survivor,watcher', 15_000, 'present users (victim expired)');
    const res = await fetch(`${urls[1]}/v1/presence/${encodeURIComponent(channel)}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    if (res.status === 200) {
      const body = (await res.json()) as { entries: Array<{ user: string }> };
      expect(body.entries.map((e) => e.user).sort()).toEqual(['survivor', 'watcher']);
    }
  }, 60_000);
});
