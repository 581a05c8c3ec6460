import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisBroker } from '@syncline/redis';
import { Redis } from 'ioredis';
import { sleep } from '../clock.js';
import { Histogram } from '../histogram.js';
import { payloadJson } from '../payload.js';
import { median } from '../results.js';

/** Sizes of the broker-ack scenario. */
export interface BrokerAckOptions {
  /** Publications per measured run. */
  readonly publications: number;
  /** Publishes in flight at once. */
  readonly inFlight: number;
  /** Runs per setting; the settings take turns and each number is the median. */
  readonly repeat: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** One setting's numbers (medians over the runs). */
export interface BrokerAckRow {
  readonly ackReplicas: number;
  readonly publicationsPerSec: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** Publishes answered `timeout` (replicas did not confirm in time). */
  readonly timeouts: number;
  /** CPU of the Redis master per publication (its `used_cpu_user` + `used_cpu_sys`), µs. */
  readonly masterCpuUsPerPublication: number;
  /** Every run, in order. */
  readonly runs: ReadonlyArray<Omit<BrokerAckRow, 'runs'>>;
}

/** Longest wait for the replica's acknowledgement in the scenario. */
const ACK_TIMEOUT_MS = 1_000;
/** Retained history per channel, as a busy namespace would keep. */
const HISTORY = { size: 1_000, ttlMs: 600_000 };
/** Publications before each measured run (scripts loaded, connections warm). */
const WARMUP_PUBLICATIONS = 500;
/** Longest wait for a Redis to start or a replica to sync. */
const START_TIMEOUT_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** `INFO replication` of the Redis at `url`, or undefined when it does not answer. */
async function replicationInfo(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.info('replication');
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** Starts redis-server on a free loopback port (a replica of `replicaOf` when given) and waits until it serves. */
async function startRedis(dir: string, replicaOf?: number): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--repl-diskless-sync-delay', '0');
  if (replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  let exited: Error | undefined;
  proc.once('error', (err) => {
    exited = new Error(`broker-ack needs redis-server on the PATH: ${err.message}`);
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let seen = '(no answer)';
  for (;;) {
    if (exited) throw exited;
    const info = await replicationInfo(url);
    if (info !== undefined) {
      seen = info;
      if (replicaOf === undefined || /^master_link_status:up/m.test(info)) break;
    }
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start or sync: ${seen}`);
    await sleep(50);
  }
  return { proc, url };
}

/** `used_cpu_user + used_cpu_sys` of a Redis, µs. */
async function redisCpuUs(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const get = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
}

/** Publishes `count` ~100-byte publications with `inFlight` at once; records each ack's latency (µs). */
async function publishAll(
  broker: RedisBroker,
  count: number,
  inFlight: number,
  firstKey: number,
  hist: Histogram | undefined,
): Promise<number> {
  let next = 0;
  let timeouts = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const started = performance.now();
      try {
        await broker.publish({
          channel: 'bench:ack',
          data: JSON.parse(payloadJson(1, firstKey + i)) as unknown,
          key: `bench:${firstKey + i}`,
          history: HISTORY,
        });
      } catch (err) {
        if ((err as { code?: string }).code !== 'timeout') throw err;
        timeouts++;
      }
      hist?.record((performance.now() - started) * 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return timeouts;
}

/**
 * The cost of `ackReplicas`: a Redis master and one replica on free loopback
 * ports, a `RedisBroker` in this process publishing to one channel (history
 * on, unique idempotency keys) with `ackReplicas` 0, then 1, taking turns.
 */
export async function runBrokerAck(o: BrokerAckOptions): Promise<BrokerAckRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-ack-'));
  const procs: ChildProcess[] = [];
  try {
    const master = await startRedis(dir);
    procs.push(master.proc);
    const masterPort = Number(new URL(master.url).port);
    const replicaDir = mkdtempSync(join(dir, 'replica-'));
    procs.push((await startRedis(replicaDir, masterPort)).proc);
    const probe = new Redis(master.url);
    probe.on('error', () => undefined);
    // After a diskless sync the master streams to the replica from its first acknowledgement (up to 1 s).
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      await probe.set('bench-ack:replica-check', '1');
      if ((await probe.wait(1, 100)) >= 1) break;
      if (Date.now() > deadline) throw new Error('the replica never confirmed a write');
    }
    const runs = new Map<number, Array<Omit<BrokerAckRow, 'runs'>>>([
      [0, []],
      [1, []],
    ]);
    let key = 0;
    try {
      for (let round = 0; round < o.repeat; round++) {
        for (const ackReplicas of [0, 1]) {
          o.log(`broker-ack: ackReplicas ${ackReplicas}, run ${round + 1} of ${o.repeat}`);
          const broker = await RedisBroker.connect({
            url: master.url,
            prefix: `bench-ack:${ackReplicas}:${round}:`,
            ackReplicas,
            ackTimeoutMs: ACK_TIMEOUT_MS,
          });
          try {
            await publishAll(broker, WARMUP_PUBLICATIONS, o.inFlight, key, undefined);
            key += WARMUP_PUBLICATIONS;
            const hist = new Histogram();
            const cpuBefore = await redisCpuUs(probe);
            const started = performance.now();
            const timeouts = await publishAll(broker, o.publications, o.inFlight, key, hist);
            const elapsedMs = performance.now() - started;
            const cpuAfter = await redisCpuUs(probe);
            key += o.publications;
            const ms = (us: number): number => Math.round(us) / 1000;
            runs.get(ackReplicas)?.push({
              ackReplicas,
              publicationsPerSec: o.publications / (elapsedMs / 1000),
              latencyMs: {
                p50: ms(hist.quantile(0.5)),
                p99: ms(hist.quantile(0.99)),
                p999: ms(hist.quantile(0.999)),
                max: ms(hist.quantile(1)),
              },
              timeouts,
              masterCpuUsPerPublication: (cpuAfter - cpuBefore) / o.publications,
            });
          } finally {
            await broker.close();
          }
        }
      }
    } finally {
      probe.disconnect();
    }
    return [...runs.entries()].map(([ackReplicas, rs]) => ({
      ackReplicas,
      publicationsPerSec: median(rs.map((r) => r.publicationsPerSec)),
      latencyMs: {
        p50: median(rs.map((r) => r.latencyMs.p50)),
        p99: median(rs.map((r) => r.latencyMs.p99)),
        p999: median(rs.map((r) => r.latencyMs.p999)),
        max: median(rs.map((r) => r.latencyMs.max)),
      },
      timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
      masterCpuUsPerPublication: median(rs.map((r) => r.masterCpuUsPerPublication)),
      runs: rs,
    }));
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Markdown table of the scenario, with the ratio WAIT / no WAIT. */
export function brokerAckTable(rows: readonly BrokerAckRow[], o: BrokerAckOptions): string {
  const head = [
    'ackReplicas',
    'publications/s',
    'ack p50 ms',
    'ack p99 ms',
    'ack p99.9 ms',
    'ack max ms',
    'timeouts',
    'master CPU µs/publication',
  ];
  const lines = [
    `### broker-ack — ${fmt(o.publications)} publications, ${o.inFlight} in flight, ~100-byte payloads, history ${fmt(HISTORY.size)}; Redis master + 1 replica on loopback`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.ackReplicas === 0 ? '0 (no WAIT)' : `${r.ackReplicas} (WAIT)`,
        fmt(r.publicationsPerSec),
        fmt(r.latencyMs.p50, 2),
        fmt(r.latencyMs.p99, 2),
        fmt(r.latencyMs.p999, 2),
        fmt(r.latencyMs.max, 2),
        fmt(r.timeouts),
        fmt(r.masterCpuUsPerPublication, 1),
      ].join(' | ')} |`,
    );
  }
  const base = rows.find((r) => r.ackReplicas === 0);
  const wait = rows.find((r) => r.ackReplicas > 0);
  if (base && wait) {
    const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
    lines.push(
      `| WAIT / no WAIT | ${[
        ratio(wait.publicationsPerSec, base.publicationsPerSec),
        ratio(wait.latencyMs.p50, base.latencyMs.p50),
        ratio(wait.latencyMs.p99, base.latencyMs.p99),
        ratio(wait.latencyMs.p999, base.latencyMs.p999),
        ratio(wait.latencyMs.max, base.latencyMs.max),
        '',
        ratio(wait.masterCpuUsPerPublication, base.masterCpuUsPerPublication),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
