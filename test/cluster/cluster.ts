import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClientOptions, createClient, type SynclineClient } from '@syncline/client';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import WebSocket from 'ws';
import { awaitReady } from '../child-output.js';
import { defer, SECRET, TEST_NAMESPACES, tempDir, token } from '../helpers.js';
import { REDIS_URL, testPrefix } from './redis-env.js';

/** The built CLI (`npm test` builds before running). */
export const CLI = join(import.meta.dirname, '..', '..', 'packages', 'server', 'dist', 'cli.js');

/** API key of cluster test nodes. */
export const API_KEY = 'cluster-test-api-key-0123456789';

/** One node process of a test cluster. */
export interface ClusterNode {
  readonly index: number;
  readonly url: string;
  readonly proc: ChildProcess;
  /** Output so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Options of `startCluster`. */
export interface ClusterOptions {
  readonly nodes?: number;
  /** Redis URL (default the machine's). */
  readonly redisUrl?: string;
  /** Seed nodes (`host:port`) of a Redis Cluster instead of a Redis URL (`--redis-cluster`). */
  readonly redisCluster?: readonly string[];
  /** Several independent Redis instances instead of one (`--redis URL` repeated). */
  readonly redisUrls?: readonly string[];
  /** Key prefix (default a fresh one, dropped after the test). */
  readonly prefix?: string;
  /** PostgreSQL URL for documents (`--postgres`); without it each node keeps documents in its own SQLite. */
  readonly postgresUrl?: string;
  /** `--drain-window` of every node. */
  readonly drainWindow?: string;
  /** Extra environment. */
  readonly env?: Record<string, string>;
  /** `--data` folder of a node started by `startNode` (default a fresh one), to start a node again on its data. */
  readonly dataDir?: string;
  /** Extra top-level keys of every node's config (`startCluster`). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Starts one `syncline start --redis …` node process. */
export async function startNode(
  index: number,
  dir: string,
  config: string,
  prefix: string,
  options: ClusterOptions = {},
): Promise<ClusterNode> {
  const args = [
    CLI,
    'start',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data',
    options.dataDir ?? join(dir, `node-${index}-${Date.now()}`),
    '--config',
    config,
    ...(options.redisCluster
      ? ['--redis-cluster', options.redisCluster.join(',')]
      : options.redisUrls
        ? options.redisUrls.flatMap((u) => ['--redis', u])
        : ['--redis', options.redisUrl ?? REDIS_URL]),
    '--drain-window',
    options.drainWindow ?? '2s',
    ...(options.postgresUrl ? ['--postgres', options.postgresUrl] : []),
  ];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, SYNCLINE_LOG_LEVEL: 'warn', SYNCLINE_REDIS_PREFIX: prefix, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  const { match, output } = await awaitReady(proc, /running at (http:\/\/\S+)/, 30_000, `node ${index}`);
  return { index, url: match[1] as string, proc, output, exited };
}

/** Mutators of the `ctr` document namespace of test clusters (shared with clients). */
export const CLUSTER_MUTATORS = {
  add(tx: { draft: { count: number }; push(path: string, v: unknown): void }, args: { tag: string }) {
    tx.draft.count += 1;
    tx.push('log', args.tag);
  },
};

/** Writes the shared config module of a test cluster (plus `extra` keys) and returns its path. */
export function writeClusterConfig(dir: string, extra: Readonly<Record<string, unknown>> = {}): string {
  const file = join(dir, 'syncline.config.mjs');
  const config = {
    auth: { secret: SECRET },
    namespaces: { ...TEST_NAMESPACES, room: { presence: true } },
    apiKey: API_KEY,
    presence: { graceMs: 200, nodeHeartbeatMs: 250, nodeTtlMs: 1_500 },
    ...extra,
  };
  const json = JSON.stringify(config);
  const docs = `{ ctr: { initialState: { count: 0, log: [] }, mutators: { ${CLUSTER_MUTATORS.add.toString()} } } }`;
  writeFileSync(file, `export default { ...${json}, docs: ${docs} };\n`);
  return file;
}

/** Starts N node processes sharing one Redis key space; all are killed after the test. */
export async function startCluster(
  options: ClusterOptions = {},
): Promise<{ nodes: ClusterNode[]; prefix: string; dir: string; config: string }> {
  const dir = tempDir();
  const config = writeClusterConfig(dir, options.config);
  const prefix = options.prefix ?? testPrefix(options.redisUrl);
  const n = options.nodes ?? 3;
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await startNode(i, dir, config, prefix, options));
  return { nodes, prefix, dir, config };
}

/**
 * A client that connects to one of `urls`, moving to the next one on every
 * reconnect (what a load balancer does for a client whose node went away).
 */
export async function clusterClient(
  urls: readonly string[] | (() => readonly string[]),
  user: string,
  first = 0,
  options: Partial<ClientOptions> = {},
): Promise<SynclineClient & { nodeUrl(): string }> {
  let i = first;
  const list = typeof urls === 'function' ? urls : () => urls;
  let current = list()[i % list().length] as string;
  const WS = class extends (WebSocket as unknown as new (url: string, protocols?: string | string[]) => object) {
    constructor(url: string, protocols?: string | string[]) {
      const all = list();
      current = all[i % all.length] as string;
      i++;
      const u = new URL(url);
      const target = new URL(current);
      u.host = target.host;
      super(u.toString(), protocols);
    }
  };
  const c = createClient({
    url: list()[first % list().length] as string,
    token: await token(user),
    WebSocket: WS as unknown as ClientOptions['WebSocket'] & object,
    transports: ['websocket'],
    reconnect: { minDelayMs: 20, maxDelayMs: 300 },
    ...options,
  } as ClientOptions);
  defer(() => c.close());
  return Object.assign(c, { nodeUrl: () => current });
}

/** Calls a node's HTTP API with the cluster's key; throws unless it answers 200. */
export async function nodeApi(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Publishes through a node's HTTP API. */
export async function httpPublish(
  url: string,
  channel: string,
  data: unknown,
  key?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(key === undefined ? { channel, data } : { channel, data, key }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Connects a raw socket with `tok`; resolves with `connected` or the error code of the refusal. */
export async function tryConnect(url: string, tok: string): Promise<string> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/connect/ws`, ['syncline.json']);
  defer(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connect', id: 1, protocol: PROTOCOL_VERSION, token: tok })));
    ws.on('message', (raw) => {
      const parsed = JSON.parse(raw.toString()) as Record<string, unknown> | Record<string, unknown>[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        if (m.type === 'error') resolve(String(m.code));
        else if (m.id === 1) resolve('connected');
      }
      ws.close();
    });
  });
}
