/**
 * The console's overview history across nodes: each node keeps its own hour
 * of points, and a console that opens on one node gets every node's history
 * at once (the node asks the others over the node bus), within the wait and
 * marked partial when a node does not answer.
 */
import type { OverviewAnswer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, postLogin } from './admin-helpers.js';
import { startCluster } from './cluster/cluster.js';
import { redisService } from './cluster/redis-env.js';

/** The other nodes' answers are waited for at most this long, ms. */
const TIMING = { nodeHeartbeatMs: 200, nodeTtlMs: 30_000, countWaitMs: 800 };
/** Slack for the HTTP round trip on a busy machine, on top of the wait. */
const SLACK_MS = 1_500;

async function signIn(url: string): Promise<string> {
  const res = await postLogin(url, ADMIN_KEY);
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

async function overview(url: string, cookie: string): Promise<OverviewAnswer> {
  const res = await fetch(`${url}/admin/api/overview`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as OverviewAnswer;
}

describe.runIf(redisService.available)('console overview history across nodes (Redis)', () => {
  it("a console opening on one node gets the other node's history; a silent node makes it partial", async () => {
    const { nodes } = await startCluster({ nodes: 2, config: { admin: { key: ADMIN_KEY }, cluster: TIMING } });
    const [a, b] = nodes.map((n) => n.url) as [string, string];
    const [cookieA, cookieB] = await Promise.all([signIn(a), signIn(b)]);

    // Node b closes its first history point 10 to 12 s after it starts.
    let own: OverviewAnswer | undefined;
    await expect
      .poll(
        async () => {
          own = await overview(b, cookieB);
          return own.history.length;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    const bId = own?.node?.node as string;
    const bFirst = own?.history[0];

    // Node a's answer carries b's snapshot and history, besides its own.
    const seen: { answer?: OverviewAnswer } = {};
    await expect
      .poll(
        async () => {
          const r = await overview(a, cookieA);
          seen.answer = r;
          return r.others.find((o) => o.node.node === bId)?.history ?? [];
        },
        { timeout: 10_000, interval: 250 },
      )
      .toContainEqual(bFirst);
    const full = seen.answer as OverviewAnswer;
    expect(full.node?.node).not.toBe(bId);
    expect(full.others.map((o) => o.node.node)).toEqual([bId]);
    expect(full).toMatchObject({ partial: false, missing: [], truncated: 0 });

    // b freezes: still listed as live, never replies. a answers within the wait with its own, partial.
    nodes[1]?.proc.kill('SIGSTOP');
    try {
      let last: { answer: OverviewAnswer; tookMs: number } | undefined;
      await expect
        .poll(
          async () => {
            const start = Date.now();
            const answer = await overview(a, cookieA);
            last = { answer, tookMs: Date.now() - start };
            return answer.partial;
          },
          { timeout: 10_000, interval: 250 },
        )
        .toBe(true);
      expect(last?.answer).toMatchObject({ others: [], missing: [bId], partial: true });
      expect(last?.answer.node?.node).toBe(full.node?.node);
      expect(last?.answer.history.length).toBeGreaterThan(0);
      expect(last?.tookMs).toBeLessThan(TIMING.countWaitMs + SLACK_MS);
    } finally {
      nodes[1]?.proc.kill('SIGCONT');
    }
  }, 90_000);
});
