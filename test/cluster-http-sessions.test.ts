import type { ReceivedPublication } from '@syncline/client';
import { eventually } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { type ClusterOptions, clusterClient, startCluster } from './cluster/cluster.js';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import { clusterPrefix, sharedRedisCluster } from './cluster/redis-cluster-fixture.js';
import { redisService } from './cluster/redis-env.js';
import { describeValue, token, waitFor } from './helpers.js';

/** The suite on one Redis, and on a Redis Cluster (forwarded requests over sharded pub/sub). */
function httpSessionSuite(title: string, enabled: boolean, backend: () => ClusterOptions): void {
  describe.runIf(enabled)(title, () => {
    it('serves a long-polling session whose requests land on three different nodes', async () => {
      const { nodes } = await startCluster({ nodes: 3, ...backend() });
      const [a, b, c] = nodes.map((n) => n.url) as [string, string, string];
      const open = await fetch(`${a}/connect/poll`, { method: 'POST' });
      expect(open.status).toBe(200);
      const { session } = (await open.json()) as { session: string };
      // The connect frame reaches node B, which forwards it to the owner (node A).
      const connect = JSON.stringify({ type: 'connect', id: 1, protocol: 1, token: await token('poller') });
      const sent = await fetch(`${b}/connect/poll/${session}`, { method: 'POST', body: connect });
      expect(sent.status).toBeLessThan(300);
      const subscribe = JSON.stringify({ type: 'subscribe', id: 2, channel: 'chat:fwd' });
      expect((await fetch(`${c}/connect/poll/${session}`, { method: 'POST', body: subscribe })).status).toBeLessThan(
        300,
      );
      // Polls through node C collect the owner's frames.
      const frames: Array<Record<string, unknown>> = [];
      await eventually(
        async () => {
          const res = await fetch(`${c}/connect/poll/${session}`);
          expect(res.status).toBe(200);
          const text = await res.text();
          for (const raw of text.split('\n')) {
            const line = raw.replace(/^data: /, '');
            if (!line.startsWith('{') && !line.startsWith('[')) continue;
            const v = JSON.parse(line) as unknown;
            const list = (Array.isArray(v) ? v : [v]) as Array<Record<string, unknown>>;
            for (const m of list) {
              if (Array.isArray(m.frames)) frames.push(...(m.frames as Array<Record<string, unknown>>));
              else frames.push(m);
            }
          }
          return frames.some((f) => f.type === 'reply' && f.id === 2);
        },
        'connect and subscribe replies through forwarded polls',
        15_000,
      );
      expect(frames.find((f) => f.id === 1)).toMatchObject({ type: 'reply' });
      // A session id whose owner no longer exists is answered session_not_found.
      const gone = await fetch(`${b}/connect/poll/${session.replace(/^[^.]*/, 'bm9ib2R5')}`);
      expect(gone.status).toBe(404);
    }, 60_000);

    it('SSE and long-polling SDK clients on a cluster receive publications from every node', async () => {
      const { nodes } = await startCluster({ nodes: 3, ...backend() });
      const urls = nodes.map((n) => n.url);
      const sse = await clusterClient(urls, 'sse-user', 0, { transports: ['sse'] });
      const poll = await clusterClient(urls, 'poll-user', 1, { transports: ['longpoll'] });
      const got: ReceivedPublication[][] = [[], []];
      await Promise.all(
        [sse, poll].map((cl, i) => cl.subscribe('chat:http', { onPublication: (p) => got[i]?.push(p) }).ready),
      );
      const pubs = await Promise.all(urls.map((_, i) => clusterClient(urls, `p${i}`, i)));
      for (let j = 0; j < 10; j++) await Promise.all(pubs.map((p, i) => p.publish('chat:http', { i, j })));
      await sse.publish('chat:http', 'from sse');
      await poll.publish('chat:http', 'from poll');
      for (const [i, g] of got.entries()) {
        await waitFor(
          () => g.length >= 32,
          20_000,
          () => `wanted offsets 1-32 at subscriber ${i}, saw ${describeValue(g.map((p) => p.offset))}`,
        );
      }
      for (const g of got) expect(g.map((p) => p.offset)).toEqual(Array.from({ length: 32 }, (_, k) => k + 1));
    }, 60_000);
  });
}

httpSessionSuite('HTTP sessions without sticky routing (Redis forwarder)', redisService.available, () => ({}));

describe.runIf(redisClusterService.available)('on a Redis Cluster', () => {
  const redis = sharedRedisCluster(redisClusterService.available, { masters: 3 });
  httpSessionSuite('HTTP sessions without sticky routing (Redis Cluster forwarder)', true, () => ({
    redisCluster: redis().seeds,
    prefix: clusterPrefix(),
  }));
});
