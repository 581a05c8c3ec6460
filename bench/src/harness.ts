import { fileURLToPath } from 'node:url';
import type { Target } from './clients/bench-conn.js';
import { BenchConsole, type ConsoleTraffic } from './console-client.js';
import { Child } from './ipc.js';
import type { ChannelPlan, LoadgenReport, OpenResult, PublishResult } from './loadgen-main.js';
import { latencyOf, type PhaseResult } from './results.js';
import type { ServerStats } from './server-main.js';
import type { PublishedCounts } from './tracker.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./server-main.js', import.meta.url));
const LOADGEN_SCRIPT = fileURLToPath(new URL('./loadgen-main.js', import.meta.url));
/** Sampling interval of `--profile`, µs (V8's default of 1,000 leaves too few samples of a 10 s phase). */
const PROFILE_INTERVAL_US = 200;

/** Options shared by every scenario. */
export interface RunOptions {
  readonly targets: readonly Target[];
  /** Folder for `--cpu-prof` output of the server processes, when profiling. */
  readonly profileDir: string | undefined;
  /** Load generator processes (0: by size). */
  readonly generators: number;
  /** Prints progress. */
  readonly log: (line: string) => void;
  /**
   * Keeps one operator console open on every Syncline server of the run (the
   * server gets an admin key); each console's traffic is added here when its rig stops.
   */
  readonly console?: ConsoleTraffic[] | undefined;
}

/** The processes of one target in one scenario. */
export class Rig {
  readonly target: Target;
  readonly server: Child;
  readonly url: string;
  readonly gens: Child[] = [];
  publisher: Child | undefined;
  console: BenchConsole | undefined;
  consoleSink: ConsoleTraffic[] | undefined;

  private constructor(target: Target, server: Child, url: string) {
    this.target = target;
    this.server = server;
    this.url = url;
  }

  /**
   * Starts the target's server process: with `recovery`, keeping missed
   * publications for reconnecting clients; with `webhookUrl` (Syncline),
   * sending `publication` webhooks there; with `admin` (Syncline), with the
   * operator console on (`BENCH_ADMIN_KEY`) but no console opened.
   */
  static async start(
    target: Target,
    options: RunOptions,
    server: { readonly recovery?: boolean; readonly webhookUrl?: string; readonly admin?: boolean } = {},
  ): Promise<Rig> {
    const execArgv = options.profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-interval=${PROFILE_INTERVAL_US}`]
      : [];
    const args = [
      target,
      ...(server.recovery === true ? ['--recovery'] : []),
      ...(server.webhookUrl === undefined ? [] : ['--webhook', server.webhookUrl]),
      ...(options.console === undefined && server.admin !== true ? [] : ['--admin']),
    ];
    const proc = new Child(`${target} server`, SERVER_SCRIPT, args, execArgv);
    const { url } = await proc.call<{ url: string }>('start');
    const rig = new Rig(target, proc, url);
    if (options.console !== undefined) {
      rig.consoleSink = options.console;
      try {
        rig.console = await BenchConsole.open(url);
      } catch (err) {
        await rig.stop();
        throw err;
      }
    }
    return rig;
  }

  /** Opens `count` connections spread over generator processes (ids from `firstId`). */
  async open(
    count: number,
    plan: ChannelPlan,
    options: RunOptions,
    concurrency = 100,
    firstId = 0,
  ): Promise<OpenResult> {
    const n = options.generators > 0 ? options.generators : Math.max(1, Math.min(3, Math.ceil(count / 2500)));
    const per = Math.ceil(count / n);
    const parts: Promise<OpenResult>[] = [];
    for (let g = 0; g < n; g++) {
      const from = g * per;
      const c = Math.min(per, count - from);
      if (c <= 0) break;
      const gen = new Child(`${this.target} generator ${g}`, LOADGEN_SCRIPT, [this.target, this.url]);
      this.gens.push(gen);
      parts.push(gen.call<OpenResult>('open', { from: firstId + from, count: c, plan, concurrency }, 300_000));
    }
    const results = await Promise.all(parts);
    const failed = results.reduce((a, r) => a + r.failed, 0);
    const error = results.find((r) => r.error)?.error;
    const out = { ms: Math.max(...results.map((r) => r.ms)), opened: count - failed, failed };
    return error === undefined ? out : { ...out, error };
  }

  /** Starts `n` load generator processes (without connections). */
  spawn(n: number): Child[] {
    for (let g = 0; g < n; g++) {
      this.gens.push(
        new Child(`${this.target} generator ${this.gens.length}`, LOADGEN_SCRIPT, [this.target, this.url]),
      );
    }
    return this.gens;
  }

  /** Opens a publisher connection in its own process. */
  async openPublisher(): Promise<Child> {
    const pub = new Child(`${this.target} publisher`, LOADGEN_SCRIPT, [this.target, this.url]);
    this.publisher = pub;
    const r = await pub.call<OpenResult>('open', { from: 9_000_000, count: 1, plan: { kind: 'none' }, concurrency: 1 });
    if (r.failed > 0) throw new Error(`publisher could not connect: ${r.error}`);
    return pub;
  }

  /** Resets CPU and loop-delay baselines of every process. */
  async mark(): Promise<void> {
    await Promise.all([this.server.call('mark'), ...this.gens.map((g) => g.call('mark'))]);
  }

  /** Waits until every subscription has every publication of `published`; latest arrival time or undefined. */
  async waitComplete(published: PublishedCounts, timeoutMs: number): Promise<number | undefined> {
    const r = await Promise.all(
      this.gens.map((g) =>
        g.call<{ doneAt: number | null }>('waitComplete', { published, timeoutMs }, timeoutMs + 30_000),
      ),
    );
    if (r.some((x) => x.doneAt === null)) return undefined;
    return Math.max(...r.map((x) => x.doneAt as number));
  }

  /** Server statistics since the last mark. */
  stats(gc = false): Promise<ServerStats> {
    return this.server.call<ServerStats>('stats', { gc });
  }

  /** Collects a phase's result from the server and the generators. */
  async result(
    scenario: string,
    params: string,
    published: PublishedCounts,
    startAt: number,
    endAt: number | undefined,
    extra: Record<string, number | string> = {},
  ): Promise<PhaseResult> {
    const stats = await this.stats();
    const reports = await Promise.all(this.gens.map((g) => g.call<LoadgenReport>('report', { published })));
    const deliveries = reports.reduce((a, r) => a + r.deliveries, 0);
    const lost = reports.reduce((a, r) => a + r.lost, 0);
    const duplicates = reports.reduce((a, r) => a + r.duplicates, 0);
    const unexpected = reports.reduce((a, r) => a + r.unexpected, 0);
    const genCpu = reports.reduce((a, r) => a + r.cpuUs, 0);
    const rxBytes = reports.reduce((a, r) => a + r.rxBytes, 0);
    const lastAt = endAt ?? Math.max(...reports.map((r) => r.lastAt));
    const durationMs = Math.max(1, lastAt - startAt);
    return {
      scenario,
      params,
      target: this.target,
      deliveries,
      durationMs,
      deliveriesPerSec: (deliveries / durationMs) * 1000,
      latencyMs: latencyOf(reports.map((r) => r.latency)),
      cpuUsPerDelivery: deliveries > 0 ? stats.cpuUs / deliveries : Number.NaN,
      bytesPerDelivery: deliveries > 0 ? rxBytes / deliveries : Number.NaN,
      loopDelayMs: { p99: stats.loopDelayMs.p99, max: stats.loopDelayMs.max },
      rssMB: stats.rssBytes / 2 ** 20,
      heapMB: stats.heapUsedBytes / 2 ** 20,
      lost,
      duplicates,
      unexpected,
      exactlyOnce: lost === 0 && duplicates === 0 && unexpected === 0 && endAt !== undefined,
      generatorCpuUsPerDelivery: deliveries > 0 ? genCpu / deliveries : Number.NaN,
      extra,
    };
  }

  /** Publishes from the publisher process. */
  publish(params: {
    channel: string;
    publisher: number;
    count: number;
    mode: 'burst' | 'paced';
    ratePerSec?: number;
    window?: number;
  }): Promise<PublishResult> {
    const pub = this.publisher;
    if (!pub) throw new Error('no publisher');
    return pub.call<PublishResult>('publish', { ratePerSec: 10, window: 64, ...params }, 600_000);
  }

  /** Stops every process of the rig. */
  async stop(): Promise<void> {
    if (this.console) {
      this.consoleSink?.push(this.console.close());
      this.console = undefined;
    }
    const kids = [...this.gens, ...(this.publisher ? [this.publisher] : [])];
    await Promise.all(kids.map((k) => k.call('close').catch(() => null)));
    await Promise.all(kids.map((k) => k.stop()));
    await this.server.call('stop').catch(() => null);
    await this.server.stop();
  }
}

/** Merges published counts of several publishers (disjoint ids). */
export function mergePublished(parts: readonly PublishedCounts[]): PublishedCounts {
  const out: PublishedCounts = {};
  for (const p of parts) {
    for (const [channel, byPub] of Object.entries(p)) out[channel] = { ...(out[channel] ?? {}), ...byPub };
  }
  return out;
}
