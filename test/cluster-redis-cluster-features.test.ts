import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { nodeApi as api, clusterClient, startCluster } from './cluster/cluster.js';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import { clusterPrefix, sharedRedisCluster } from './cluster/redis-cluster-fixture.js';
import { describeValue, token, waitFor, waitForValue, waitState } from './helpers.js';

// Presence (entries per channel shard, diffs over sharded pub/sub, the node
// index on its own shard) and the control channels between nodes (users,
// revocations) on a Redis Cluster of three masters.
describe.runIf(redisClusterService.available)('three node processes on a Redis Cluster', () => {
  const redis = sharedRedisCluster(redisClusterService.available, { masters: 3 });

  it('presence crosses nodes, and a node killed with -9 loses its entries after the node TTL', async () => {
    const { nodes } = await startCluster({ nodes: 3, redisCluster: redis().seeds, prefix: clusterPrefix() });
    const urls = nodes.map((n) => n.url);
    const channel = `room:${Date.now().toString(36)}`;
    const watcher = await clusterClient(urls, 'watcher', 0);
    const watch = watcher.presence(channel);
    await watch.enter({ role: 'watcher' });
    const victim = await clusterClient([nodes[2]?.url as string], 'victim', 0, {
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
    // The HTTP API of another node reads the same entries from the channel's shard.
    const body = (await api(urls[1] as string, 'GET', `/v1/channels/${encodeURIComponent(channel)}/presence`)) as {
      members: Array<{ user: string }>;
    };
    expect(body.members.map((m) => m.user).sort()).toEqual(['survivor', 'watcher']);
  }, 60_000);

  it('a revocation made through one node disconnects the user on every node', async () => {
    const { nodes } = await startCluster({ nodes: 3, redisCluster: redis().seeds, prefix: clusterPrefix() });
    const [a, b, c] = nodes.map((n) => n.url) as [string, string, string];
    const oldToken = await token('mallory');
    const onB = await clusterClient([b], 'mallory', 0, { token: oldToken });
    const onC = await clusterClient([c], 'mallory', 0, { token: oldToken });
    const bystander = await clusterClient([b], 'alice');
    await Promise.all([waitState(onB, 'connected'), waitState(onC, 'connected'), waitState(bystander, 'connected')]);
    const codes: Array<Array<number | string>> = [[], []];
    onB.on('state', (s) => s.code !== undefined && codes[0]?.push(s.code));
    onC.on('state', (s) => s.code !== undefined && codes[1]?.push(s.code));
    const revoked = await api(a, 'POST', '/v1/users/mallory/revoke', { reason: 'suspended' });
    expect(revoked).toMatchObject({ disconnected: 2, nodes: { answered: 3, expected: 3 }, partial: false });
    await waitFor(
      () => codes.every((s) => s.includes(CLOSE_CODES.REVOKED.code)),
      2_000,
      () => `wanted close code ${CLOSE_CODES.REVOKED.code} on B and C, saw ${describeValue(codes)}`,
    );
    expect(bystander.state).toBe('connected');
  }, 60_000);
});
