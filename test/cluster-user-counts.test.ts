import type { StateChange, SynclineClient } from '@syncline/client';
import { CLOSE_CODES } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { type ClusterNode, clusterClient, nodeApi, startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';
import { describeValue, token, waitFor, waitForValue, waitState } from './helpers.js';

/** Node announces every 200 ms; the answer waits at most 800 ms for the other nodes' counts. */
const TIMING = { nodeHeartbeatMs: 200, nodeTtlMs: 4_000, countWaitMs: 800 };
/** Slack for the HTTP round trip on a busy machine, on top of the wait. */
const SLACK_MS = 1_500;

/** Calls a node's HTTP API and measures how long the answer took. */
async function timed(
  url: string,
  path: string,
  body: unknown = {},
): Promise<{ answer: Record<string, unknown>; tookMs: number }> {
  const start = Date.now();
  const answer = await nodeApi(url, 'POST', path, body);
  return { answer, tookMs: Date.now() - start };
}

/** Connects `user` once to each of `nodes` (by index into `urls`); each reconnects to its own node. */
async function connectUser(urls: readonly string[], user: string, nodes: readonly number[]): Promise<SynclineClient[]> {
  const tok = await token(user);
  const clients = await Promise.all(nodes.map((i) => clusterClient([urls[i] as string], user, 0, { token: tok })));
  await Promise.all(clients.map((c) => waitState(c, 'connected')));
  return clients;
}

/** Records the close codes each client sees from now on. */
function closeCodesOf(clients: readonly SynclineClient[]): () => number[][] {
  const codes = clients.map(() => [] as number[]);
  for (const [i, c] of clients.entries()) {
    c.on('state', (s: StateChange) => {
      if (typeof s.code === 'number') codes[i]?.push(s.code);
    });
  }
  return () => codes;
}

/** Waits until every client has been closed with `code`. */
async function waitClosedWith(codes: () => number[][], code: number, what: string): Promise<void> {
  await waitFor(
    () => codes().every((c) => c.includes(code)),
    5_000,
    () => `wanted close code ${code} on ${what}, saw ${describeValue(codes())}`,
  );
}

function urlsOf(nodes: readonly ClusterNode[]): string[] {
  return nodes.map((n) => n.url);
}

describe.runIf(redisService.available)('cluster-wide counts of user operations (Redis)', () => {
  it('messages, disconnects and revocations count the connections of every node', async () => {
    // No heartbeat during the test: the nodes know each other from the hello each one says when it
    // starts (answered at once by the others) and the bye of a node that shuts down.
    const handshakeOnly = { ...TIMING, nodeHeartbeatMs: 60_000, nodeTtlMs: 120_000 };
    const { nodes } = await startCluster({ nodes: 3, config: { cluster: handshakeOnly } });
    const [a, b, c] = urlsOf(nodes) as [string, string, string];
    // carol: two connections on A, one on B, one on C.
    const clients = await connectUser([a, b, c], 'carol', [0, 0, 1, 2]);
    const complete = { nodes: { answered: 3, expected: 3 }, partial: false };

    const got = clients.map(() => [] as unknown[]);
    for (const [i, cl] of clients.entries()) cl.on('userMessage', (m) => got[i]?.push(m.data));
    const sent = await timed(b, '/v1/users/carol/messages', { data: 'hi' });
    expect(sent.answer).toEqual({ user: 'carol', delivered: 4, ...complete });
    // Every node answered: no waiting out the bound.
    expect(sent.tookMs).toBeLessThan(TIMING.countWaitMs);
    await waitForValue(() => got, [['hi'], ['hi'], ['hi'], ['hi']], 5_000, 'the message on every connection');

    const codes = closeCodesOf(clients);
    const disc = await timed(c, '/v1/users/carol/disconnect');
    expect(disc.answer).toEqual({ user: 'carol', disconnected: 4, ...complete });
    await waitClosedWith(codes, CLOSE_CODES.FORCE_DISCONNECT.code, 'every connection of carol');
    await Promise.all(clients.map((cl) => waitState(cl, 'connected', 10_000)));

    const revoked = await timed(a, '/v1/users/carol/revoke', { reason: 'suspended' });
    expect(revoked.answer).toMatchObject({ user: 'carol', disconnected: 4, ...complete });
    await waitClosedWith(codes, CLOSE_CODES.REVOKED.code, 'every connection of carol');

    // A node that shuts down says goodbye: the others stop waiting for it at once.
    nodes[2]?.proc.kill('SIGTERM');
    expect(await nodes[2]?.exited).toBe(0);
    const after = await timed(a, '/v1/users/carol/messages', { data: 'anyone?' });
    expect(after.answer).toEqual({ user: 'carol', delivered: 0, nodes: { answered: 2, expected: 2 }, partial: false });
    expect(after.tookMs).toBeLessThan(TIMING.countWaitMs);
  }, 60_000);

  it('a node that stops answering or is killed mid-request: the answer comes within the wait, marked partial', async () => {
    const { nodes } = await startCluster({ nodes: 3, config: { cluster: TIMING } });
    const [a, b, c] = urlsOf(nodes) as [string, string, string];
    const clients = await connectUser([a, b, c], 'dave', [0, 1, 2]);
    const partial = { nodes: { answered: 2, expected: 3 }, partial: true };

    // C freezes: still subscribed in Redis, never replies.
    nodes[2]?.proc.kill('SIGSTOP');
    const sent = await timed(a, '/v1/users/dave/messages', { data: 1 });
    expect(sent.answer).toEqual({ user: 'dave', delivered: 2, ...partial });
    expect(sent.tookMs).toBeGreaterThanOrEqual(TIMING.countWaitMs - 50);
    expect(sent.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);

    // C is killed while B waits for it (after A and B applied the disconnect).
    const codes = closeCodesOf(clients.slice(0, 2));
    const pending = timed(b, '/v1/users/dave/disconnect');
    await waitClosedWith(codes, CLOSE_CODES.FORCE_DISCONNECT.code, 'the connections of dave on A and B');
    nodes[2]?.proc.kill('SIGKILL');
    const disc = await pending;
    expect(disc.answer).toEqual({ user: 'dave', disconnected: 2, ...partial });
    expect(disc.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);

    // Once C has been silent for nodeTtlMs it is no longer waited for: complete answers again.
    await Promise.all(clients.slice(0, 2).map((cl) => waitState(cl, 'connected', 10_000)));
    const deadline = Date.now() + TIMING.nodeTtlMs + 5_000;
    let last = await timed(a, '/v1/users/dave/messages', { data: 2 });
    while (last.answer.partial !== false && Date.now() < deadline) {
      last = await timed(a, '/v1/users/dave/messages', { data: 2 });
    }
    expect(last.answer).toEqual({ user: 'dave', delivered: 2, nodes: { answered: 2, expected: 2 }, partial: false });
    expect(last.tookMs).toBeLessThan(TIMING.countWaitMs);
  }, 60_000);
});
