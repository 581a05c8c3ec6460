import type { StateChange } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { RedisRevocationStore } from '@syncline/redis';
import { describe, expect, it } from 'vitest';
import { nodeApi as api, clusterClient, startCluster, startNode, tryConnect } from './cluster/cluster.js';
import { dropPrefix, REDIS_URL, redisBroker, redisService, testPrefix } from './cluster/redis-env.js';
import { defer, describeValue, token, waitFor, waitForValue, waitState } from './helpers.js';

/** Reads the channel list of a node until it equals `expected` (the counts are reported once a second). */
async function expectChannels(url: string, prefix: string, expected: unknown, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last: unknown;
  while (Date.now() < deadline) {
    last = (await api(url, 'GET', `/v1/channels?prefix=${encodeURIComponent(prefix)}`)).channels;
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(last, what).toEqual(expected);
}

function closeCodes(states: StateChange[]): number[] {
  return states.filter((s) => s.code !== undefined).map((s) => s.code as number);
}

describe.runIf(redisService.available)('user operations across three nodes (Redis)', () => {
  it('user messages, disconnects and channel counts made through one node reach every node', async () => {
    const { nodes } = await startCluster({ nodes: 3 });
    const [a, b, c] = nodes.map((n) => n.url) as [string, string, string];
    const onB = await clusterClient([b], 'alice');
    const onC = await clusterClient([c], 'alice');
    await Promise.all([waitState(onB, 'connected'), waitState(onC, 'connected')]);

    // A user message sent through node A reaches the user's connections on B and C.
    const got: unknown[][] = [[], []];
    onB.on('userMessage', (m) => got[0]?.push(m.data));
    onC.on('userMessage', (m) => got[1]?.push(m.data));
    const sent = await api(a, 'POST', '/v1/users/alice/messages', { data: { hello: 'from A' } });
    // The count covers every node: none on A, one on B, one on C.
    expect(sent).toEqual({ user: 'alice', delivered: 2, nodes: { answered: 3, expected: 3 }, partial: false });
    await waitForValue(() => got, [[{ hello: 'from A' }], [{ hello: 'from A' }]], 5_000, 'user messages on B and C');
    expect(got).toEqual([[{ hello: 'from A' }], [{ hello: 'from A' }]]);

    // Channel counts sum the subscribers of every node.
    const subs = await Promise.all([0, 1, 2, 2].map((i) => clusterClient([nodes[i]?.url as string], `sub-${i}`)));
    await Promise.all(subs.map((s) => s.subscribe('chat:counted').ready));
    await expectChannels(b, 'chat:counted', [{ channel: 'chat:counted', subscribers: 4, present: 0 }], 'on B');
    await subs[3]?.close();
    await expectChannels(a, 'chat:counted', [{ channel: 'chat:counted', subscribers: 3, present: 0 }], 'on A');

    // A disconnect through node A closes the user's connections on B and C (they reconnect).
    const states: StateChange[][] = [[], []];
    onB.on('state', (s) => states[0]?.push(s));
    onC.on('state', (s) => states[1]?.push(s));
    const disc = await api(a, 'POST', '/v1/users/alice/disconnect', {});
    expect(disc).toEqual({ user: 'alice', disconnected: 2, nodes: { answered: 3, expected: 3 }, partial: false });
    await waitFor(
      () => states.every((s) => closeCodes(s).includes(CLOSE_CODES.FORCE_DISCONNECT.code)),
      5_000,
      () =>
        `wanted close code ${CLOSE_CODES.FORCE_DISCONNECT.code} on B and C, saw ${states.map((s) => describeValue(closeCodes(s))).join('; ')}`,
    );
    await Promise.all([waitState(onB, 'connected', 10_000), waitState(onC, 'connected', 10_000)]);
  }, 30_000);

  it('a revocation made through one node is enforced by every node, including one started later; lifting it too', async () => {
    const { nodes, dir, config, prefix } = await startCluster({ nodes: 3 });
    const [a, b, c] = nodes.map((n) => n.url) as [string, string, string];
    const oldToken = await token('mallory');
    const onB = await clusterClient([b], 'mallory', 0, { token: oldToken });
    const onC = await clusterClient([c], 'mallory', 0, { token: oldToken });
    const bystander = await clusterClient([b], 'alice');
    await Promise.all([waitState(onB, 'connected'), waitState(onC, 'connected'), waitState(bystander, 'connected')]);
    const states: StateChange[][] = [[], []];
    onB.on('state', (s) => states[0]?.push(s));
    onC.on('state', (s) => states[1]?.push(s));

    const revoked = await api(a, 'POST', '/v1/users/mallory/revoke', { reason: 'suspended' });
    expect(revoked).toMatchObject({ disconnected: 2, nodes: { answered: 3, expected: 3 }, partial: false });
    await waitFor(
      () => states.every((s) => closeCodes(s).includes(CLOSE_CODES.REVOKED.code)),
      1_000,
      () =>
        `wanted close code ${CLOSE_CODES.REVOKED.code} on B and C within a second, saw ${states.map((s) => describeValue(closeCodes(s))).join('; ')}`,
    );
    expect(bystander.state).toBe('connected');
    // Every node says so when asked, with the time the revocation was stored under.
    const revokedState = { user: 'mallory', revoked: true, before: revoked.before };
    for (const url of [a, b, c]) expect(await api(url, 'GET', '/v1/users/mallory/revoke')).toEqual(revokedState);
    expect(await api(b, 'GET', '/v1/users/alice/revoke')).toEqual({ user: 'alice', revoked: false });

    // Every node refuses the old token, including a node started after the revocation (it read it from Redis).
    const late = await startNode(3, dir, config, prefix);
    for (const url of [a, b, c, late.url]) expect(await tryConnect(url, oldToken)).toBe('revoked');
    expect(await api(late.url, 'GET', '/v1/users/mallory/revoke')).toEqual(revokedState);

    // Lifting it through node B lets the old token in everywhere again.
    expect(await api(b, 'DELETE', '/v1/users/mallory/revoke')).toEqual({ user: 'mallory', lifted: true });
    // Other nodes learn of it over the node bus within milliseconds: allow a second.
    for (const url of [a, b, c, late.url]) {
      const deadline = Date.now() + 1_000;
      let outcome = await tryConnect(url, oldToken);
      while (outcome !== 'connected' && Date.now() < deadline) outcome = await tryConnect(url, oldToken);
      expect(outcome).toBe('connected');
      // The node that lets the token in says the user is not revoked.
      expect(await api(url, 'GET', '/v1/users/mallory/revoke')).toEqual({ user: 'mallory', revoked: false });
    }
  }, 30_000);

  it('the Redis revocation store writes back what a node knew after Redis lost its data', async () => {
    const prefix = testPrefix();
    const broker = await redisBroker(prefix);
    defer(() => broker.close());
    const store = new RedisRevocationStore({ redis: broker.redis, prefix });
    const other = new RedisRevocationStore({ redis: broker.redis, prefix });
    expect(await store.revoke('mallory', 2_000)).toBe(2_000);
    expect(await other.revoke('mallory', 1_000)).toBe(2_000);
    await other.revoke('eve', 5_000);
    const none = new Map<string, number>();
    expect([...(await store.all(none))].sort()).toEqual([
      ['eve', 5_000],
      ['mallory', 2_000],
    ]);
    expect(await other.lift('eve')).toBe(true);
    expect(await other.lift('eve')).toBe(false);
    // Redis comes back empty: the first node to re-read writes back what it holds in force.
    await dropPrefix(REDIS_URL, prefix);
    expect([...(await store.all(new Map([['mallory', 2_000]])))]).toEqual([['mallory', 2_000]]);
    expect([...(await other.all(none))]).toEqual([['mallory', 2_000]]);
  });
});
