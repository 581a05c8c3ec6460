import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sleep } from '../clock.js';
import { median } from '../results.js';

/** Sizes of the broker (sharding) scenario. */
export interface BrokerShardsOptions {
  /** Shard counts to measure, e.g. [1, 2, 3]. */
  readonly shards: readonly number[];
  /** Syncline node processes publishing (and subscribed to every channel). */
  readonly nodes: number;
  /** Channels of the run (spread over the slots). */
  readonly channels: number;
  /** Publishes in flight per node. */
  readonly inFlight: number;
  /** Measured seconds per run. */
  readonly seconds: number;
  readonly repeat: number;
  readonly log: (line: string) => void;
}

/** One shard count's numbers (medians over the runs). */
export interface BrokerShardsRow {
  readonly shards: number;
  readonly nodes: number;
  readonly publicationsPerSec: number;
  readonly deliveriesPerSec: number;
  /** Redis CPU per publication on each shard (`used_cpu_user + used_cpu_sys` delta ÷ its publications), µs, mean over shards. */
  readonly redisCpuUsPerPublication: number;
  /** The same, lowest and highest shard. */
  readonly redisCpuUsRange: readonly [number, number];
  /** Time inside the publish script per run (`INFO commandstats` of EVALSHA/EVAL), µs, mean over shards. */
  readonly scriptUsPerCall: number;
  /** CPU of the busiest shard's Redis process over the run, % of one core. */
  readonly busiestShardCpuPct: number;
  /** Publications of the busiest shard ÷ the mean per shard (1.0 is an even spread). */
  readonly skew: number;
  /** CPU of the node processes per publication (publish, fan-out receipt), µs. */
  readonly nodeCpuUsPerPublication: number;
  readonly failed: number;
  readonly runs: ReadonlyArray<Omit<BrokerShardsRow, 'runs'>>;
}

const START_TIMEOUT_MS = 20_000;

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

function open(port: number): Redis {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  return r;
}

/**
 * A Redis Cluster of `n` masters (no replicas) on loopback, built by hand so
 * that one and two masters work too (`redis-cli --cluster create` wants
 * three): each node gets an even range of slots, then they meet.
 */
async function startCluster(n: number, dir: string): Promise<{ procs: ChildProcess[]; ports: number[] }> {
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    ports.push(port);
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        // A lone master never learns its own address from a peer.
        '--cluster-announce-ip',
        '127.0.0.1',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    proc.once('error', () => undefined);
    procs.push(proc);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  const conns = ports.map(open);
  try {
    for (const c of conns) {
      for (;;) {
        try {
          await c.connect();
          break;
        } catch {
          if (Date.now() > deadline) throw new Error('broker: redis-server did not start (is it on the PATH?)');
          await sleep(50);
        }
      }
    }
    const per = Math.ceil(16384 / n);
    for (const [i, c] of conns.entries()) {
      await c.cluster('ADDSLOTSRANGE', i * per, Math.min(16383, (i + 1) * per - 1));
    }
    for (const port of ports.slice(1)) await conns[0]?.cluster('MEET', '127.0.0.1', port);
    for (;;) {
      const states = await Promise.all(conns.map(async (c) => String(await c.cluster('INFO'))));
      const known = await Promise.all(
        conns.map(
          async (c) =>
            String(await c.cluster('NODES'))
              .trim()
              .split('\n').length,
        ),
      );
      if (states.every((s) => s.includes('cluster_state:ok')) && known.every((k) => k === n)) break;
      if (Date.now() > deadline) throw new Error('broker: the Redis Cluster did not become ok');
      await sleep(100);
    }
  } finally {
    for (const c of conns) c.disconnect();
  }
  return { procs, ports };
}

/** A shard's CPU (`used_cpu_user + used_cpu_sys`, µs) and its script runs (`EVALSHA`/`EVAL` calls and µs inside them). */
async function cpuUs(port: number): Promise<{ cpu: number; scriptCalls: number; scriptUs: number }> {
  const r = open(port);
  try {
    await r.connect();
    const info = await r.info('cpu');
    const stats = await r.info('commandstats');
    const get = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    let scriptCalls = 0;
    let scriptUs = 0;
    for (const cmd of ['evalsha', 'eval']) {
      const m = new RegExp(`^cmdstat_${cmd}:calls=(\\d+),usec=(\\d+)`, 'm').exec(stats);
      scriptCalls += Number(m?.[1] ?? 0);
      scriptUs += Number(m?.[2] ?? 0);
    }
    return { cpu: (get('used_cpu_user') + get('used_cpu_sys')) * 1e6, scriptCalls, scriptUs };
  } finally {
    r.disconnect();
  }
}

interface NodeReport {
  readonly perChannel: Record<string, number>;
  readonly failed: number;
  readonly delivered: number;
  readonly elapsedMs: number;
  readonly cpuUs: number;
}

/** Starts a broker node process (added to `procs` at once); resolves once it is subscribed and warm. */
async function startNode(
  settings: object,
  procs: ChildProcess[],
): Promise<{ proc: ChildProcess; lines: AsyncIterator<string> }> {
  const main = fileURLToPath(new URL('../broker-node-main.js', import.meta.url));
  const proc = spawn(process.execPath, [main], {
    env: { ...process.env, BENCH_BROKER_NODE: JSON.stringify(settings) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  procs.push(proc);
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await Promise.race([
    lines.next(),
    sleep(START_TIMEOUT_MS).then(() => ({ value: 'timeout', done: false })),
  ]);
  if (first.value !== 'ready') throw new Error(`broker node did not get ready: ${String(first.value)}`);
  return { proc, lines };
}

/**
 * Publications through 1, 2 and 3 Redis Cluster shards: for each shard
 * count, a fresh cluster of that many masters on loopback, `nodes` node
 * processes each with a RedisBroker subscribed to every channel and
 * publishing round-robin over them (~100-byte payloads, history 100, unique
 * idempotency keys) for `seconds`. Reports publications/s, deliveries/s and
 * each shard's Redis CPU per publication (its `INFO cpu` delta ÷ the
 * publications of its channels).
 */
export async function runBrokerShards(o: BrokerShardsOptions): Promise<BrokerShardsRow[]> {
  const runs = new Map<number, Array<Omit<BrokerShardsRow, 'runs'>>>(o.shards.map((n) => [n, []]));
  for (let round = 0; round < o.repeat; round++) {
    for (const shards of o.shards) {
      o.log(`broker: ${shards} shard(s), ${o.nodes} nodes, run ${round + 1} of ${o.repeat}`);
      const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-broker-'));
      const procs: ChildProcess[] = [];
      try {
        const cluster = await startCluster(shards, dir);
        procs.push(...cluster.procs);
        const seeds = cluster.ports.map((p) => `127.0.0.1:${p}`);
        const channels = Array.from({ length: o.channels }, (_, i) => `bench:shard-${i}`);
        // Which shard owns each channel (its keys hash by the channel's tag).
        const probe = open(cluster.ports[0] as number);
        await probe.connect();
        const slotOwner = new Map<number, number>();
        const slots = (await probe.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
        for (const [from, to, [, port]] of slots) for (let s = from; s <= to; s++) slotOwner.set(s, port);
        const ownerOf = new Map<string, number>();
        for (const c of channels) ownerOf.set(c, slotOwner.get(Number(await probe.cluster('KEYSLOT', `{${c}}`))) ?? 0);
        probe.disconnect();
        const prefix = `bench-broker:${round}:`;
        const nodes = [];
        for (let i = 0; i < o.nodes; i++) {
          nodes.push(
            await startNode({ seeds, prefix, channels, inFlight: o.inFlight, seconds: o.seconds, node: i }, procs),
          );
        }
        const before = await Promise.all(cluster.ports.map(cpuUs));
        for (const n of nodes) n.proc.stdin?.write('go\n');
        const reports: NodeReport[] = [];
        for (const n of nodes) {
          const line = await Promise.race([
            n.lines.next(),
            sleep(o.seconds * 1000 + START_TIMEOUT_MS).then(() => ({ value: undefined, done: true })),
          ]);
          if (typeof line.value !== 'string') throw new Error('broker node did not report');
          reports.push(JSON.parse(line.value) as NodeReport);
        }
        const after = await Promise.all(cluster.ports.map(cpuUs));
        const perShard = new Map<number, number>(cluster.ports.map((p) => [p, 0]));
        let published = 0;
        for (const r of reports) {
          for (const [c, k] of Object.entries(r.perChannel)) {
            const port = ownerOf.get(c) ?? 0;
            perShard.set(port, (perShard.get(port) ?? 0) + k);
            published += k;
          }
        }
        const elapsedSec = Math.max(...reports.map((r) => r.elapsedMs)) / 1000;
        const zero = { cpu: 0, scriptCalls: 0, scriptUs: 0 };
        const delta = (i: number, f: (x: typeof zero) => number): number => f(after[i] ?? zero) - f(before[i] ?? zero);
        const cpuPerPub = cluster.ports.map((p, i) => delta(i, (x) => x.cpu) / Math.max(1, perShard.get(p) ?? 0));
        const scriptUsPerCall = cluster.ports.map(
          (_, i) =>
            delta(i, (x) => x.scriptUs) /
            Math.max(
              1,
              delta(i, (x) => x.scriptCalls),
            ),
        );
        const busiest = Math.max(...cluster.ports.map((_, i) => delta(i, (x) => x.cpu)));
        const maxShare = Math.max(...perShard.values());
        runs.get(shards)?.push({
          shards,
          nodes: o.nodes,
          publicationsPerSec: published / elapsedSec,
          deliveriesPerSec: reports.reduce((a, r) => a + r.delivered, 0) / elapsedSec,
          redisCpuUsPerPublication: cpuPerPub.reduce((a, b) => a + b, 0) / cpuPerPub.length,
          redisCpuUsRange: [Math.min(...cpuPerPub), Math.max(...cpuPerPub)],
          scriptUsPerCall: scriptUsPerCall.reduce((a, b) => a + b, 0) / scriptUsPerCall.length,
          busiestShardCpuPct: (busiest / 1e6 / elapsedSec) * 100,
          skew: maxShare / (published / shards),
          nodeCpuUsPerPublication: reports.reduce((a, r) => a + r.cpuUs, 0) / Math.max(1, published),
          failed: reports.reduce((a, r) => a + r.failed, 0),
        });
      } finally {
        for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return [...runs.entries()].map(([shards, rs]) => ({
    shards,
    nodes: o.nodes,
    publicationsPerSec: median(rs.map((r) => r.publicationsPerSec)),
    deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
    redisCpuUsPerPublication: median(rs.map((r) => r.redisCpuUsPerPublication)),
    redisCpuUsRange: [median(rs.map((r) => r.redisCpuUsRange[0])), median(rs.map((r) => r.redisCpuUsRange[1]))],
    scriptUsPerCall: median(rs.map((r) => r.scriptUsPerCall)),
    busiestShardCpuPct: median(rs.map((r) => r.busiestShardCpuPct)),
    skew: median(rs.map((r) => r.skew)),
    nodeCpuUsPerPublication: median(rs.map((r) => r.nodeCpuUsPerPublication)),
    failed: rs.reduce((a, r) => a + r.failed, 0),
    runs: rs,
  }));
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Markdown table of the scenario. */
export function brokerShardsTable(rows: readonly BrokerShardsRow[], o: BrokerShardsOptions): string {
  const head = [
    'shards',
    'publications/s',
    'deliveries/s',
    'Redis CPU µs/publication per shard (mean, min–max)',
    'script µs/run',
    'busiest shard CPU %',
    'skew',
    'node CPU µs/publication',
    'failed',
  ];
  const lines = [
    `### broker — Redis Cluster shards on loopback, ${o.nodes} node processes each subscribed to all ${fmt(o.channels)} channels, ${o.inFlight} publishes in flight per node, ${o.seconds} s, ~100-byte payloads, history 100`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        String(r.shards),
        fmt(r.publicationsPerSec),
        fmt(r.deliveriesPerSec),
        `${fmt(r.redisCpuUsPerPublication, 1)} (${fmt(r.redisCpuUsRange[0], 1)}–${fmt(r.redisCpuUsRange[1], 1)})`,
        fmt(r.scriptUsPerCall, 1),
        fmt(r.busiestShardCpuPct),
        fmt(r.skew, 2),
        fmt(r.nodeCpuUsPerPublication, 1),
        fmt(r.failed),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
