import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceivedPublication } from '@syncline/client';
import { eventually } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { API_KEY, CLUSTER_MUTATORS, clusterClient, httpPublish, startCluster } from './cluster/cluster.js';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { redisService } from './cluster/redis-env.js';
import { defer, describeValue, freePort, tempDir, waitFor, waitForValue } from './helpers.js';

const NGINX = '/usr/sbin/nginx';
const CONFIG = join(import.meta.dirname, '..', 'deploy', 'nginx', 'nginx.conf');

/** Whether Debian's nginx is installed; like Redis, it is required (not skipped) when SYNCLINE_REQUIRE_SERVICES=1. */
const nginxInstalled = existsSync(NGINX);
if (!nginxInstalled && process.env.SYNCLINE_REQUIRE_SERVICES === '1') {
  throw new Error(
    `nginx is required (SYNCLINE_REQUIRE_SERVICES=1) but ${NGINX} is missing (apt-get install nginx-light).`,
  );
}

/** Runs Debian's nginx in the foreground with deploy/nginx/nginx.conf, pointed at the given node ports. */
async function startNginx(nodePorts: number[]): Promise<{ url: string; proc: ChildProcess }> {
  const dir = tempDir();
  const port = await freePort();
  let conf = readFileSync(CONFIG, 'utf8');
  conf = conf.replace(/^pid .*$/m, `pid ${join(dir, 'nginx.pid')};`);
  conf = conf.replace('listen 8080;', `listen 127.0.0.1:${port};`);
  conf = conf.replace(/error_log stderr warn;/, `error_log ${join(dir, 'error.log')} warn;`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(dir, t)};`)
    .join('\n');
  conf = conf.replace('http {', `http {\n${temp}`);
  ['8801', '8802', '8803'].forEach((p, i) => {
    conf = conf.replace(`127.0.0.1:${p}`, `127.0.0.1:${nodePorts[i]}`);
  });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const proc = spawn(NGINX, ['-c', file, '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise((r) => proc.once('exit', r));
  defer(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGQUIT');
      await exited;
    }
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited: ${out}`);
      return out.length >= 0 && existsSync(join(dir, 'nginx.pid'));
    },
    10_000,
    () => `wanted nginx.pid written, saw none; nginx output: ${out}`,
  );
  await eventually(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 'nginx', 10_000);
  return { url, proc };
}

describe.runIf(redisService.available && postgresService.available && nginxInstalled)(
  'nginx in front of three nodes',
  () => {
    it('carries a whole scenario: spread clients, HTTP API, documents, presence, a node killed, recovery without loss', async () => {
      const { nodes } = await startCluster({ nodes: 3, postgresUrl: DATABASE_URL });
      const ports = nodes.map((n) => Number(new URL(n.url).port));
      const lb = await startNginx(ports);
      const channel = 'chat:nginx';

      const subs = await Promise.all(Array.from({ length: 9 }, (_, i) => clusterClient([lb.url], `sub-${i}`)));
      const got = subs.map(() => [] as ReceivedPublication[]);
      const nodesSeen = new Set<string>();
      await Promise.all(
        subs.map(async (c, i) => {
          const s = c.subscribe(channel, { onPublication: (p) => got[i]?.push(p) });
          await s.ready;
          if (c.info) nodesSeen.add(c.info.node);
        }),
      );
      // least_conn spread the clients over the nodes.
      expect(nodesSeen.size).toBeGreaterThan(1);

      const publisher = await clusterClient([lb.url], 'publisher');
      const acked: number[] = [];
      for (let j = 0; j < 30; j++) {
        acked.push((await publisher.publish(channel, { j }, { id: `a${j}` })).offset);
        const r = await httpPublish(lb.url, channel, { http: j });
        expect(r.status).toBe(200);
        acked.push((r.body as { offset: number }).offset);
      }
      await waitFor(
        () => got.every((g) => g.length >= acked.length),
        20_000,
        () =>
          `wanted ${acked.length} publications at every subscriber, saw counts ${got.map((g) => g.length).join(', ')}`,
      );

      // Documents and presence through the balancer: three writers on one document, all present in a room.
      const doc = `ctr:nginx-${Date.now().toString(36)}`;
      const room = `room:nginx-${Date.now().toString(36)}`;
      const writers = await Promise.all([0, 1, 2].map((i) => clusterClient([lb.url], `writer-${i}`)));
      const replicas = writers.map((c) => c.doc(doc, { mutators: CLUSTER_MUTATORS }));
      await Promise.all(replicas.map((r) => r.ready));
      await Promise.all(writers.map((c, i) => c.presence(room).enter({ i })));
      const watch = publisher.presence(room);
      const present = () =>
        watch.members.current
          .map((m) => m.user)
          .sort()
          .join();
      await waitForValue(present, 'writer-0,writer-1,writer-2', 10_000, 'present users');
      const confirmations: Promise<unknown>[] = [];
      const write = (round: number) =>
        replicas.forEach((r, i) => {
          for (let k = 0; k < 5; k++) confirmations.push(r.mutate.add({ tag: `${i}-${round}-${k}` }));
        });
      write(0);

      // A node dies; nginx sends its clients' reconnects to the others.
      // The node that writer-0 (and so at least one writer and its presence entry) is on.
      const ids = await Promise.all(
        nodes.map(async (n) => ((await (await fetch(`${n.url}/healthz`)).json()) as { node: string }).node),
      );
      const victim = nodes[ids.indexOf(writers[0]?.info?.node ?? '')];
      expect(victim).toBeDefined();
      victim?.proc.kill('SIGKILL');
      await victim?.exited;
      // Mutations in flight to the dead node are resent elsewhere; more are made meanwhile.
      write(1);
      for (let j = 30; j < 60; j++) {
        try {
          acked.push((await publisher.publish(channel, { j }, { id: `a${j}` })).offset);
        } catch {
          // The publisher itself may have been on the dead node: resend with the same id.
          acked.push((await publisher.publish(channel, { j }, { id: `a${j}` })).offset);
        }
        const r = await httpPublish(lb.url, channel, { http: j });
        if (r.status === 200) acked.push((r.body as { offset: number }).offset);
      }
      const total = Math.max(...acked);
      expect([...new Set(acked)].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
      for (const [i, g] of got.entries())
        await waitFor(
          () => g.length >= total,
          20_000,
          () => `wanted offsets 1-${total} at subscriber ${i}, saw ${describeValue(g.map((p) => p.offset))}`,
        );
      for (const g of got) expect(g.map((p) => p.offset)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
      // Every mutation applied once, the same history on every replica.
      await Promise.all(confirmations);
      await waitFor(
        () => replicas.every((r) => (r.current as { count: number } | undefined)?.count === 30 && r.pendingCount === 0),
        20_000,
        () =>
          `wanted count 30 and nothing pending at every replica, saw ${replicas
            .map((r) => `count ${(r.current as { count: number } | undefined)?.count} pending ${r.pendingCount}`)
            .join('; ')}`,
      );
      const states = replicas.map((r) => r.current as { count: number; log: string[] });
      for (const st of states) {
        expect(st).toEqual(states[0]);
        expect(new Set(st.log).size).toBe(30);
      }
      // The dead node's presence entries expired; its writers entered again through the balancer:
      // one entry (connection) per writer.
      expect(present()).toBe('writer-0,writer-1,writer-2');
      const entries = async (): Promise<number[]> => {
        const res = await fetch(`${lb.url}/v1/channels/${encodeURIComponent(room)}/presence`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        const body = (await res.json()) as { members: Array<{ user: string; entries: unknown[] }> };
        return body.members.map((m) => m.entries.length);
      };
      await eventually(async () => (await entries()).join() === '1,1,1', 'one presence entry per writer', 20_000);
      const health = await fetch(`${lb.url}/readyz`);
      expect(health.status).toBe(200);
      const metrics = await fetch(`${lb.url}/metrics`);
      expect(metrics.status).toBe(200);
    }, 60_000);
  },
);
