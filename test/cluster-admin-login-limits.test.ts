/**
 * The console's sign-in failure limits count over the whole cluster: node
 * processes (`syncline start --redis`) on one Redis key space share the
 * counts, so failures spread over two nodes close an address (5 a minute)
 * and everyone (50 a minute) as they would on one node. With Redis down a
 * node falls back to its own counts: it still closes an address after its
 * own 5 failures, and still lets the right key in from another address.
 * Addresses come from `X-Forwarded-For` (the nodes trust one proxy).
 */
import { RedisWindowCounters } from '@syncline/redis';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, postLogin } from './admin-helpers.js';
import { type ClusterNode, startCluster } from './cluster/cluster.js';
import { redisBroker, redisService, startPrivateRedis, testPrefix } from './cluster/redis-env.js';
import { defer } from './helpers.js';

const PER_ADDRESS = 5;
const GLOBAL = 50;
const WRONG_KEY = 'not-the-admin-key-0123456789-abcdef';

/** A sign-in through node `n` as if from `ip` (behind the trusted proxy): status, code and Retry-After. */
async function signIn(n: ClusterNode, ip: string, key: string) {
  const res = await postLogin(n.url, key, { 'x-forwarded-for': ip });
  const body = (await res.json()) as { error?: { code: string; retryAfterMs?: number } };
  return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after') };
}

const consoleConfig = { admin: { key: ADMIN_KEY }, trustProxy: true };

describe.runIf(redisService.available)('console sign-in limits across nodes (Redis)', () => {
  it('failures spread over two nodes close the address on both, not other addresses', async () => {
    const { nodes } = await startCluster({ nodes: 2, config: consoleConfig });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const ip = '203.0.113.7';
    // Three failures through A and two through B: neither node saw five itself.
    for (const n of [a, b, a, b, a]) expect(await signIn(n, ip, WRONG_KEY)).toMatchObject({ status: 401 });
    for (const n of [a, b]) {
      const refused = await signIn(n, ip, ADMIN_KEY);
      expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(50);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    // Another address signs in through either node.
    expect((await signIn(a, '203.0.113.8', ADMIN_KEY)).status).toBe(200);
    expect((await signIn(b, '203.0.113.8', ADMIN_KEY)).status).toBe(200);
  }, 60_000);

  it('failures from many addresses over two nodes close sign-ins for everyone at the global count', async () => {
    const { nodes } = await startCluster({ nodes: 2, config: consoleConfig });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    // One failure from each of 50 addresses, half through each node (each node saw 25).
    for (let i = 0; i < GLOBAL; i++) {
      expect((await signIn(i % 2 ? a : b, `198.51.100.${i}`, WRONG_KEY)).status).toBe(401);
    }
    for (const n of [a, b]) {
      expect(await signIn(n, '192.0.2.1', ADMIN_KEY)).toMatchObject({ status: 429, code: 'rate_limited' });
    }
  }, 60_000);

  it('with Redis down a node counts its own failures: it closes an address but lets the right key in', async () => {
    const redis = await startPrivateRedis();
    const { nodes } = await startCluster({ nodes: 2, redisUrl: redis.url, config: consoleConfig });
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    // Two failures counted in Redis through B before it goes down.
    for (let i = 0; i < 2; i++) expect((await signIn(b, '203.0.113.9', WRONG_KEY)).status).toBe(401);
    await redis.kill();
    const started = Date.now();
    // Node A counts its own (it saw none of the two): five failures reach the key check, then the address
    // is closed there.
    for (let i = 0; i < PER_ADDRESS; i++) expect((await signIn(a, '203.0.113.9', WRONG_KEY)).status).toBe(401);
    expect(await signIn(a, '203.0.113.9', ADMIN_KEY)).toMatchObject({ status: 429, code: 'rate_limited' });
    // Not closed to everyone: the right key from another address signs in (fail closed would lock operators out).
    expect((await signIn(a, '203.0.113.10', ADMIN_KEY)).status).toBe(200);
    // Seven sign-ins without Redis: none waited for the shared counts past the limiter's 1 s (most not at all).
    expect(Date.now() - started).toBeLessThan(6_000);
    const logs = a.output();
    expect(logs).toContain("the cluster's sign-in failure counts are unreachable");
  }, 60_000);

  it('the Redis counters count concurrent hits of two connections exactly once each, and forget a window that ended', async () => {
    const prefix = testPrefix();
    const [one, two] = await Promise.all([redisBroker(prefix), redisBroker(prefix)]);
    defer(() => Promise.all([one.close(), two.close()]));
    const a = new RedisWindowCounters({ redis: one.redis, prefix });
    const b = new RedisWindowCounters({ redis: two.redis, prefix });
    const hits = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit('k', 60_000)));
    expect(hits.map((h) => h.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const seen = await b.peek('k');
    expect(seen?.count).toBe(100);
    expect(seen?.remainingMs).toBeGreaterThan(50_000);
    expect(seen?.remainingMs).toBeLessThanOrEqual(60_000);
    // The key lives under the prefix, with the window as its expiry.
    expect(await one.redis.pttl(`${prefix}counters:{k}`)).toBeGreaterThan(50_000);
    expect(await a.peek('other')).toBeUndefined();
    // A short window ends: the key is gone and the next hit starts again from one.
    expect((await a.hit('short', 100)).count).toBe(1);
    await expect.poll(() => b.peek('short'), { timeout: 2_000, interval: 20 }).toBeUndefined();
    expect(await a.hit('short', 100)).toMatchObject({ count: 1 });
  });
});
