import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../helpers.js';

const run = promisify(execFile);

/** Node timeout of test clusters: a killed master's replica takes over in about twice this. */
export const CLUSTER_NODE_TIMEOUT_MS = 2_000;

/** Whether `redis-server` and `redis-cli` are installed; throws when services are required (SYNCLINE_REQUIRE_SERVICES=1) and they are not. */
export const redisClusterService = await (async () => {
  const found = await Promise.all(
    ['redis-server', 'redis-cli'].map((bin) =>
      run(bin, ['--version'], { timeout: 5_000 }).then(
        () => true,
        () => false,
      ),
    ),
  );
  const available = found.every(Boolean);
  if (!available && process.env.SYNCLINE_REQUIRE_SERVICES === '1') {
    throw new Error('redis-server and redis-cli are required (SYNCLINE_REQUIRE_SERVICES=1) to start a Redis Cluster.');
  }
  return { available };
})();

/** One redis-server process of a test cluster. */
export interface ClusterRedisNode {
  readonly port: number;
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** The process, or undefined once killed. */
  proc: ChildProcess | undefined;
}

/** A Redis Cluster of private redis-server processes on loopback. */
export interface TestRedisCluster {
  /** Seed nodes (`host:port`), every node of the cluster. */
  readonly seeds: readonly string[];
  readonly nodes: readonly ClusterRedisNode[];
  /** `host:port` of the master serving `slot` now (asks a live node). */
  masterOf(slot: number): Promise<string>;
  /** Kills the master serving `slot` with SIGKILL and waits until another node serves the slot and the cluster is ok. */
  killMasterOf(slot: number, timeoutMs?: number): Promise<{ killed: string; promoted: string }>;
  /**
   * Starts a killed node again on its port and cluster config: it rejoins as
   * a replica of the master that took its slots over. Waits until its link
   * to that master is up and the cluster is ok.
   */
  restart(address: string, timeoutMs?: number): Promise<void>;
  /** Moves `slots` to the master at `to` (`host:port`) by hand: SETSLOT IMPORTING/MIGRATING, MIGRATE of every key, SETSLOT NODE. */
  moveSlots(slots: readonly number[], to: string): Promise<void>;
  /** Masters (`host:port`) and the slots each serves. */
  masters(): Promise<Map<string, number[]>>;
  /** `INFO cpu` used_cpu_sys + used_cpu_user of a node, seconds. */
  cpuSeconds(address: string): Promise<number>;
  /** Kills every process of the cluster and removes its folder. */
  stop(): Promise<void>;
}

function open(address: string): Redis {
  const [host, port] = address.split(':');
  const r = new Redis({
    host: host as string,
    port: Number(port),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 5_000,
  });
  r.on('error', () => undefined);
  return r;
}

/** Runs `fn` on a short-lived connection to `address`. */
export async function withNode<T>(address: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = open(address);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Polls `check` every 100 ms until it returns true; throws with what it last saw at the deadline. */
async function until(what: string, timeoutMs: number, check: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      seen = r;
    } catch (err) {
      seen = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms, last saw ${seen}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** `CLUSTER SLOTS` as a map of master address → slots. */
async function slotMap(address: string): Promise<Map<string, number[]>> {
  return withNode(address, async (r) => {
    const raw = (await r.cluster('SLOTS')) as unknown as Array<
      [number, number, [string, number, ...unknown[]], ...unknown[]]
    >;
    const out = new Map<string, number[]>();
    for (const [from, to, master] of raw) {
      const key = `${master[0]}:${master[1]}`;
      const list = out.get(key) ?? [];
      for (let s = from; s <= to; s++) list.push(s);
      out.set(key, list);
    }
    return out;
  });
}

/**
 * Starts a Redis Cluster of `masters` masters with `replicas` replicas each,
 * on free loopback ports in a temporary folder, with no persistence and a
 * 2 s node timeout, and waits until every node reports `cluster_state:ok`
 * and agrees on the slot map. Call `stop()` in `afterAll`: it kills only the
 * processes it started. Everything it waits for is bounded.
 */
export async function startRedisCluster(
  options: { masters?: number; replicas?: number } = {},
): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'syncline-rcluster-'));
  const nodes: ClusterRedisNode[] = [];
  const killAll = (): void => {
    for (const n of nodes) {
      if (n.proc && n.proc.exitCode === null) n.proc.kill('SIGKILL');
    }
  };
  process.once('exit', killAll);
  const spawnNode = (port: number): ChildProcess =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        String(CLUSTER_NODE_TIMEOUT_MS),
        '--dir',
        dir,
        '--dbfilename',
        `dump-${port}.rdb`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--repl-diskless-sync-delay',
        '0',
      ],
      { stdio: 'ignore' },
    );
  const stop = async (): Promise<void> => {
    const exits = nodes.map((n) =>
      n.proc && n.proc.exitCode === null && n.proc.signalCode === null
        ? new Promise((res) => n.proc?.once('exit', res))
        : Promise.resolve(),
    );
    killAll();
    await Promise.all(exits);
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      nodes.push({ port, address: `127.0.0.1:${port}`, proc: spawnNode(port) });
    }
    for (const n of nodes) {
      await until(`redis-server ${n.address} starting`, 10_000, () =>
        withNode(n.address, async (r) => ((await r.ping()) === 'PONG' ? true : 'no PONG')),
      );
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    await waitClusterOk(nodes, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const live = (): ClusterRedisNode[] => nodes.filter((n) => n.proc !== undefined);
  const anyLive = (): string => (live()[0] as ClusterRedisNode).address;
  const masterOf = async (slot: number): Promise<string> => {
    for (const [address, slots] of await slotMap(anyLive())) if (slots.includes(slot)) return address;
    throw new Error(`no master serves slot ${slot}`);
  };
  return {
    seeds: nodes.map((n) => n.address),
    nodes,
    masterOf,
    masters: () => slotMap(anyLive()),
    async killMasterOf(slot, timeoutMs = 30_000) {
      const killed = await masterOf(slot);
      const node = nodes.find((n) => n.address === killed);
      const p = node?.proc;
      if (!node || !p) throw new Error(`no process for ${killed}`);
      node.proc = undefined;
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGKILL');
      await exited;
      let promoted = '';
      await until(`failover of slot ${slot} away from ${killed}`, timeoutMs, async () => {
        promoted = '';
        for (const n of live()) {
          const m = await slotMap(n.address).catch(() => new Map<string, number[]>());
          for (const [address, slots] of m) if (slots.includes(slot)) promoted ||= address;
        }
        return promoted !== '' && promoted !== killed ? true : `slot ${slot} on ${promoted || 'nobody'}`;
      });
      await waitClusterOk(live(), timeoutMs);
      return { killed, promoted };
    },
    async restart(address, timeoutMs = 30_000) {
      const node = nodes.find((n) => n.address === address);
      if (!node || node.proc) throw new Error(`${address} is not a killed node of this cluster`);
      node.proc = spawnNode(node.port);
      await until(`${address} rejoining as a replica`, timeoutMs, () =>
        withNode(address, async (r) => {
          const info = await r.info('replication');
          return /role:slave/.test(info) && /master_link_status:up/.test(info) ? true : info.replace(/\s+/g, ' ');
        }),
      );
      await waitClusterOk(live(), timeoutMs);
    },
    async moveSlots(slots, to) {
      const targetId = await withNode(to, async (r) => String(await r.cluster('MYID')));
      const [toHost, toPort] = to.split(':');
      for (const slot of slots) {
        const from = await masterOf(slot);
        if (from === to) continue;
        const sourceId = await withNode(from, async (r) => String(await r.cluster('MYID')));
        await withNode(to, (r) => r.cluster('SETSLOT', slot, 'IMPORTING', sourceId));
        await withNode(from, async (r) => {
          await r.cluster('SETSLOT', slot, 'MIGRATING', targetId);
          for (;;) {
            const keys = (await r.cluster('GETKEYSINSLOT', slot, 100)) as string[];
            if (keys.length === 0) break;
            await r.migrate(toHost as string, Number(toPort), '', 0, 5_000, 'KEYS', ...keys);
          }
        });
        await withNode(to, (r) => r.cluster('SETSLOT', slot, 'NODE', targetId));
        await withNode(from, (r) => r.cluster('SETSLOT', slot, 'NODE', targetId));
        for (const n of live()) {
          if (n.address === to || n.address === from) continue;
          await withNode(n.address, (r) => r.cluster('SETSLOT', slot, 'NODE', targetId)).catch(() => undefined);
        }
      }
      await waitClusterOk(live(), 20_000);
    },
    cpuSeconds: (address) =>
      withNode(address, async (r) => {
        const info = await r.info('cpu');
        const num = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
        return num('used_cpu_sys') + num('used_cpu_user');
      }),
    stop,
  };
}

/** Waits until every node says `cluster_state:ok` and all agree on the slot map. */
async function waitClusterOk(nodes: readonly ClusterRedisNode[], timeoutMs: number): Promise<void> {
  await until('cluster_state:ok on every node', timeoutMs, async () => {
    const maps: string[] = [];
    for (const n of nodes) {
      const info = await withNode(n.address, async (r) => String(await r.cluster('INFO')));
      if (!/cluster_state:ok/.test(info)) return `${n.address}: ${/cluster_state:\w+/.exec(info)?.[0]}`;
      const m = await slotMap(n.address);
      maps.push(JSON.stringify([...m].map(([a, s]) => [a, s.length]).sort()));
    }
    return new Set(maps).size === 1 ? true : `slot maps differ: ${[...new Set(maps)].join(' / ')}`;
  });
}

/** Independent redis-server processes (no cluster) for the several-instances mode. */
export interface TestRedisInstances {
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

/** Starts `n` plain redis-server processes on free loopback ports (no persistence); `stop()` kills them. */
export async function startRedisInstances(n: number): Promise<TestRedisInstances> {
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map((p) =>
        p.exitCode === null && p.signalCode === null
          ? new Promise((res) => {
              p.once('exit', res);
              p.kill('SIGKILL');
            })
          : undefined,
      ),
    );
  };
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      ports.push(port);
      procs.push(
        spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
          stdio: 'ignore',
        }),
      );
    }
    for (const port of ports) {
      await until(`redis-server on ${port} starting`, 10_000, () =>
        withNode(`127.0.0.1:${port}`, async (r) => ((await r.ping()) === 'PONG' ? true : 'no PONG')),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls: ports.map((p) => `redis://127.0.0.1:${p}`), stop };
}
