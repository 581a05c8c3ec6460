import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FinalChannelHistory } from '@syncline/testing';
import { Redis } from 'ioredis';
import { readChannelHistory } from './chaos-channels.js';
import { type CutProxy, startCutProxy } from './chaos-proxy.js';
import { between, delay, type Rng } from './chaos-util.js';
import { type ClusterNode, type ClusterOptions, startNode } from './cluster.js';
import type { PrivateRedis } from './redis-env.js';

/**
 * The nodes of a chaos run, each behind its own cuttable proxy: clients
 * connect to the proxies, the test talks to the nodes' HTTP API directly.
 */
export class ChaosNodes {
  readonly proxies: readonly CutProxy[];
  readonly #nodes: Array<ClusterNode | undefined>;
  readonly #start: (index: number) => Promise<ClusterNode>;
  /** Node kills so far. */
  kills = 0;

  private constructor(nodes: ClusterNode[], proxies: CutProxy[], start: (index: number) => Promise<ClusterNode>) {
    this.#nodes = nodes;
    this.proxies = proxies;
    this.#start = start;
  }

  /** Starts `count` node processes (in parallel) and a proxy in front of each. */
  static async start(
    count: number,
    dir: string,
    config: string,
    prefix: string,
    options: ClusterOptions,
  ): Promise<ChaosNodes> {
    const start = (i: number): Promise<ClusterNode> => startNode(i, dir, config, prefix, options);
    const nodes = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
    const proxies = await Promise.all(nodes.map((n) => startCutProxy(n.url)));
    return new ChaosNodes(nodes, proxies, start);
  }

  /** What clients connect to. */
  get urls(): string[] {
    return this.proxies.map((p) => p.url);
  }

  /** The HTTP URL of a running node (the first one up). */
  apiUrl(): string {
    const n = this.#nodes.find((x) => x !== undefined && x.proc.exitCode === null && x.proc.signalCode === null);
    if (!n) throw new Error('no node is running');
    return n.url;
  }

  /** The slot whose proxy `proxyUrl` is (-1 when none). */
  slotOf(proxyUrl: string): number {
    return this.proxies.findIndex((p) => p.url === proxyUrl);
  }

  /** kill -9 of a node: its proxy refuses new connections and drops the open ones. */
  async kill(index: number): Promise<void> {
    const node = this.#nodes[index];
    const proxy = this.proxies[index];
    if (!node || !proxy) throw new Error(`node ${index} is not running`);
    proxy.target = undefined;
    this.#nodes[index] = undefined;
    node.proc.kill('SIGKILL');
    await node.exited;
    proxy.cutAll();
    this.kills++;
  }

  /** Starts the node of a slot again (on a new port) and points its proxy at it. */
  async restart(index: number): Promise<void> {
    const node = await this.#start(index);
    this.#nodes[index] = node;
    const proxy = this.proxies[index];
    if (proxy) proxy.target = node.url;
  }
}

/** Random cuts of client connections through the proxies, until stopped. */
export interface Cutter {
  readonly cuts: number;
  stop(): Promise<void>;
}

/**
 * Every `minMs`–`maxMs` (seeded) cuts one random open connection, or with
 * probability `allProbability` every connection of one random proxy.
 */
export function startCutter(
  proxies: readonly CutProxy[],
  rng: Rng,
  options: { minMs: number; maxMs: number; allProbability: number; maxCuts: number },
): Cutter {
  let running = true;
  let cuts = 0;
  const loop = (async () => {
    while (running && cuts < options.maxCuts) {
      await delay(between(rng, options.minMs, options.maxMs));
      if (!running) break;
      const proxy = proxies[Math.floor(rng() * proxies.length)];
      if (!proxy) continue;
      if (rng() < options.allProbability) cuts += proxy.cutAll();
      else if (proxy.cut((n) => Math.floor(rng() * n))) cuts++;
    }
  })();
  return {
    get cuts() {
      return cuts;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Deletes a Redis data folder's snapshot and append-only file (a restart then starts empty). */
export function wipeRedisData(dir: string): void {
  rmSync(join(dir, 'dump.rdb'), { force: true });
  rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
}

/** Runs admin commands on a private Redis. */
export async function redisAdmin<T>(redis: PrivateRedis, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/**
 * Each channel's retained history as a node's HTTP API reports it, retrying
 * while Redis or the node is not back yet (bounded by `timeoutMs`).
 */
export async function channelHistories(
  nodes: ChaosNodes,
  channels: readonly string[],
  timeoutMs = 20_000,
): Promise<Map<string, FinalChannelHistory>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const out = new Map<string, FinalChannelHistory>();
      for (const c of channels) out.set(c, await readChannelHistory(nodes.apiUrl(), c));
      return out;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`channel histories not readable within ${timeoutMs} ms: ${last}`);
    await delay(100);
  }
}

/** Each channel's epoch (see {@link channelHistories}). */
export async function channelEpochs(nodes: ChaosNodes, channels: readonly string[]): Promise<Map<string, string>> {
  const h = await channelHistories(nodes, channels);
  return new Map([...h].map(([c, x]) => [c, x.epoch]));
}
