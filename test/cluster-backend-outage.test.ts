import type { NodeStatus, SynclineClient, SynclineError } from '@syncline/client';
import type { CommandInput, RequestType } from '@syncline/protocol';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { redisService, startPrivateRedis } from './cluster/redis-env.js';
import { describeValue, waitFor, waitForValue } from './helpers.js';

/** The bound the feature promises: `/readyz` and refused commands within 3 s of the loss. */
const BOUND_MS = 3_000;

interface ReadySample {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function readyz(url: string): Promise<ReadySample> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Polls `/readyz` until it answers `want`; resolves with the time it took
 * from `since`. A failed wait says every distinct answer it saw.
 */
async function readyzUntil(url: string, want: number, since: number, deadlineMs: number): Promise<number> {
  const seen: string[] = [];
  while (Date.now() - since <= deadlineMs) {
    const r = await readyz(url);
    const line = `${r.status} ${JSON.stringify({ broker: r.body.broker, docs: r.body.docs })}`;
    if (seen[seen.length - 1] !== line) seen.push(line);
    if (r.status === want) return Date.now() - since;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`/readyz did not answer ${want} within ${deadlineMs} ms; saw ${seen.join(' → ')}`);
}

/** Sends a raw command through the SDK and reports how it ended and how long it took. */
async function timedRequest(
  c: SynclineClient,
  command: CommandInput<RequestType>,
): Promise<{ ms: number; code: string | undefined; message: string; retryAfterMs: number | undefined }> {
  const t0 = Date.now();
  try {
    await c.request(command, { timeoutMs: 15_000 });
    return { ms: Date.now() - t0, code: undefined, message: 'ok', retryAfterMs: undefined };
  } catch (err) {
    const e = err as SynclineError;
    return { ms: Date.now() - t0, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs };
  }
}

function statusLog(c: SynclineClient): NodeStatus[] {
  const log: NodeStatus[] = [];
  c.on('degraded', (s) => log.push(s));
  return log;
}

const IOREDIS_TEXT = /Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|Connection is closed/;

describe.runIf(redisService.available)('Redis outage: visible and bounded', () => {
  it('Redis killed: readyz 503 within 3 s, commands refused within 3 s, clients told degraded, all back after restart', async () => {
    const redis = await startPrivateRedis();
    const { nodes } = await startCluster({ nodes: 2, redisUrl: redis.url });
    const urls = nodes.map((n) => n.url);
    const node = urls[0] as string;
    expect((await readyz(node)).body).toMatchObject({ ready: true, broker: 'up', docs: 'up' });

    const a = await clusterClient([node], 'alice');
    const b = await clusterClient([urls[1] as string], 'bob');
    const aLog = statusLog(a);
    const bLog = statusLog(b);
    await waitForValue(() => [a.state, b.state], ['connected', 'connected'], 10_000, 'client states (alice, bob)');
    const live = a.subscribe('chat:live');
    await live.ready;

    const killedAt = Date.now();
    await redis.kill();
    const downMs = await readyzUntil(node, 503, killedAt, BOUND_MS);
    const body = (await readyz(node)).body;
    expect(body).toMatchObject({ ready: false, broker: 'down', docs: 'up' });
    await waitFor(
      () => a.degraded && b.degraded,
      BOUND_MS,
      () =>
        `wanted both clients degraded, saw alice ${a.degraded}, bob ${b.degraded} (alice's statuses ${JSON.stringify(aLog)})`,
    );
    expect(a.serverStatus).toEqual({ degraded: true, reason: 'broker', down: ['broker'] });

    // Commands that need the broker answer `unavailable` with a hint, at once.
    const refused = [
      await timedRequest(a, { type: 'subscribe', channel: 'chat:during' }),
      await timedRequest(a, { type: 'history', channel: 'chat:live' }),
      await timedRequest(a, { type: 'presence.subscribe', channel: 'room:during' }),
    ];
    for (const r of refused) {
      expect(r).toMatchObject({ code: 'unavailable' });
      expect(r.ms).toBeLessThan(BOUND_MS);
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.message).not.toMatch(IOREDIS_TEXT);
    }
    // Publishes fail in Syncline's words (WebSocket and HTTP API).
    const pub = await timedRequest(a, { type: 'publish', channel: 'chat:live', data: 1, key: 'k1' });
    expect(pub.code).toBe('unavailable');
    expect(pub.message).toBe('The message broker is unavailable; retry shortly.');
    const httpPub = await httpPublish(urls[1] as string, 'chat:live', { n: 1 });
    expect(httpPub.status).toBe(503);
    expect(JSON.stringify(httpPub.body)).not.toMatch(IOREDIS_TEXT);
    // The SDK keeps retrying a subscription refused for a temporary reason.
    const during = b.subscribe('chat:during');
    const duringStates: string[] = [];
    during.on('state', (e) => duringStates.push(e.state));
    const metrics = await (await fetch(`${node}/metrics`)).text();
    expect(metrics).toMatch(/syncline_backend_up\{backend="broker",node="[^"]+"\} 0/);

    const restartedAt = Date.now();
    await redis.start();
    const upMs = await readyzUntil(node, 200, restartedAt, 10_000);
    await waitFor(
      () => !a.degraded && !b.degraded,
      10_000,
      () => `wanted neither client degraded, saw alice ${a.degraded}, bob ${b.degraded}`,
    );
    await waitFor(
      () => during.state === 'subscribed',
      15_000,
      () => `wanted the retried subscription subscribed, saw ${during.state} (states ${duringStates.join(', ')})`,
    );
    expect(duringStates).not.toContain('unsubscribed');
    expect(aLog.map((s) => s.degraded)).toEqual([true, false]);
    expect(bLog.map((s) => s.degraded)).toEqual([true, false]);

    // Publications flow again, also to the subscription made during the outage.
    const got: unknown[] = [];
    during.on('publication', (p) => got.push(p.data));
    await waitForValue(() => during.state, 'subscribed', 1_000, 'subscription state');
    await a.publish('chat:during', { after: true });
    await waitFor(
      () => got.length === 1,
      10_000,
      () => `wanted 1 publication after the outage, saw ${describeValue(got)}`,
    );
    console.log(`readyz 503 after ${downMs} ms (Redis killed), 200 again ${upMs} ms after restart`);
  }, 60_000);

  it('Redis paused (CLIENT PAUSE 5000 ALL) counts as down: readyz 503 and a subscribe answered within 3 s', async () => {
    const redis = await startPrivateRedis();
    const { nodes } = await startCluster({ nodes: 1, redisUrl: redis.url });
    const node = (nodes[0] as { url: string }).url;
    const a = await clusterClient([node], 'alice');
    const log = statusLog(a);
    await waitForValue(() => a.state, 'connected', 10_000, 'client state');

    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    await admin.connect();
    const pausedAt = Date.now();
    await admin.call('CLIENT', 'PAUSE', '5000', 'ALL');
    admin.disconnect();
    // Sent before the node can know: bounded by the subscribe deadline, not by the pause.
    const early = await timedRequest(a, { type: 'subscribe', channel: 'chat:paused' });
    const downMs = await readyzUntil(node, 503, pausedAt, BOUND_MS);
    const late = await timedRequest(a, { type: 'subscribe', channel: 'chat:paused-2' });
    await waitFor(
      () => a.degraded,
      BOUND_MS,
      () => `wanted the client degraded, saw it not degraded (statuses ${JSON.stringify(log)})`,
    );
    const upMs = await readyzUntil(node, 200, pausedAt, 12_000);
    await waitFor(
      () => !a.degraded,
      5_000,
      () => `wanted the client no longer degraded, saw it degraded (statuses ${JSON.stringify(log)})`,
    );

    expect(early.code).toBe('unavailable');
    expect(early.ms).toBeLessThan(BOUND_MS);
    expect(late.code).toBe('unavailable');
    expect(late.ms).toBeLessThan(BOUND_MS);
    // Nothing left behind: the node subscribes again normally once Redis answers.
    const sub = a.subscribe('chat:paused');
    await sub.ready;
    console.log(
      `paused Redis: readyz 503 after ${downMs} ms, 200 after ${upMs} ms; subscribes answered in ${early.ms} ms and ${late.ms} ms`,
    );
  }, 60_000);
});
