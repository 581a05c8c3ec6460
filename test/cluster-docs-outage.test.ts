import type { NodeStatus, SynclineClient, SynclineError } from '@syncline/client';
import type { CommandInput, RequestType } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { CLUSTER_MUTATORS, clusterClient, startCluster } from './cluster/cluster.js';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { redisService } from './cluster/redis-env.js';
import { startTcpProxy } from './cluster/tcp-proxy.js';
import { waitFor } from './helpers.js';

/** The bound the feature promises: `/readyz` and refused commands within 3 s of the loss. */
const BOUND_MS = 3_000;

interface Counter {
  count: number;
  log: string[];
}

/** Polls `/readyz` until it answers `want`; the time from `since`, or an error listing what it saw. */
async function readyzUntil(url: string, want: number, since: number, deadlineMs: number): Promise<number> {
  const seen: string[] = [];
  while (Date.now() - since <= deadlineMs) {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as Record<string, unknown>;
    const line = `${res.status} broker=${String(body.broker)} docs=${String(body.docs)}`;
    if (seen[seen.length - 1] !== line) seen.push(line);
    if (res.status === want) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`/readyz did not answer ${want} within ${deadlineMs} ms; saw ${seen.join(' → ')}`);
}

async function timedRequest(
  c: SynclineClient,
  command: CommandInput<RequestType>,
): Promise<{ ms: number; code: string | undefined; retryAfterMs: number | undefined; message: string }> {
  const t0 = Date.now();
  try {
    await c.request(command, { timeoutMs: 15_000 });
    return { ms: Date.now() - t0, code: undefined, retryAfterMs: undefined, message: 'ok' };
  } catch (err) {
    const e = err as SynclineError;
    return { ms: Date.now() - t0, code: e.code, retryAfterMs: e.retryAfterMs, message: e.message };
  }
}

function docName(): string {
  return `ctr:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

describe.runIf(redisService.available && postgresService.available)('PostgreSQL outage: visible and bounded', () => {
  for (const mode of ['reset', 'blackhole'] as const) {
    it(`link to PostgreSQL cut (${mode}): readyz 503 within 3 s, doc commands refused within 3 s, pending mutation applied once after`, async () => {
      const pg = new URL(DATABASE_URL);
      const proxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432));
      pg.host = `127.0.0.1:${proxy.port}`;
      const { nodes } = await startCluster({ nodes: 1, postgresUrl: pg.toString() });
      const node = (nodes[0] as { url: string }).url;
      const a = await clusterClient([node], 'alice');
      const log: NodeStatus[] = [];
      a.on('degraded', (s) => log.push(s));
      const doc = docName();
      const replica = a.doc(doc, { mutators: CLUSTER_MUTATORS });
      await replica.ready;
      await replica.mutate.add({ tag: 'before' });

      const cutAt = Date.now();
      proxy.cut(mode);
      const downMs = await readyzUntil(node, 503, cutAt, BOUND_MS);
      const body = (await (await fetch(`${node}/readyz`)).json()) as Record<string, unknown>;
      expect(body).toMatchObject({ ready: false, broker: 'up', docs: 'down' });
      await waitFor(
        () => a.degraded,
        BOUND_MS,
        () => `wanted the client degraded, saw it not degraded (statuses ${JSON.stringify(log)})`,
      );
      expect(a.serverStatus).toEqual({ degraded: true, reason: 'docs', down: ['docs'] });

      const subscribe = await timedRequest(a, { type: 'doc.subscribe', doc: docName() });
      const mutate = await timedRequest(a, {
        type: 'doc.mutate',
        doc,
        clientId: 'raw-client',
        mutationId: 1,
        name: 'add',
        args: { tag: 'raw' },
      });
      for (const r of [subscribe, mutate]) {
        expect(r.code).toBe('unavailable');
        expect(r.ms).toBeLessThan(BOUND_MS);
        expect(r.retryAfterMs).toBeGreaterThan(0);
      }
      // Channels do not need PostgreSQL: they keep working.
      const ch = a.subscribe(`chat:${doc.slice(4)}`);
      await ch.ready;
      // The SDK keeps a mutation made during the outage pending and sends it again later.
      const during = replica.mutate.add({ tag: 'during' });
      const metrics = await (await fetch(`${node}/metrics`)).text();
      expect(metrics).toMatch(/syncline_backend_up\{backend="docs",node="[^"]+"\} 0/);

      const restoredAt = Date.now();
      proxy.restore();
      const upMs = await readyzUntil(node, 200, restoredAt, 10_000);
      await waitFor(
        () => !a.degraded,
        5_000,
        () => `wanted the client no longer degraded, saw it degraded (statuses ${JSON.stringify(log)})`,
      );
      await during;
      await waitFor(
        () => (replica.current as Counter | undefined)?.count === 2 && replica.pendingCount === 0,
        15_000,
        () =>
          `wanted the mutation confirmed (count 2, nothing pending), saw state ${JSON.stringify(replica.current)}, pending ${replica.pendingCount}`,
      );
      expect((replica.current as Counter).log).toEqual(['before', 'during']);
      expect(log.map((s) => s.degraded)).toEqual([true, false]);
      console.log(
        `PostgreSQL ${mode}: readyz 503 after ${downMs} ms, 200 ${upMs} ms after restore; doc.subscribe refused in ${subscribe.ms} ms, doc.mutate in ${mutate.ms} ms`,
      );
    }, 60_000);
  }
});
