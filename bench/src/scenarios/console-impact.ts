import type { ConsoleTraffic } from '../console-client.js';
import type { RunOptions } from '../harness.js';
import type { PhaseResult } from '../results.js';
import { runConnect } from './connect.js';
import { runFanout } from './fanout.js';

/** Sizes of the console-impact scenario. */
export interface ConsoleImpactOptions {
  /** Idle connections opened in the connect runs. */
  readonly connections: number;
  /** Subscribers, paced rate and duration, burst size of the fan-out runs. */
  readonly subscribers: number;
  readonly ratePerSec: number;
  readonly seconds: number;
  readonly burst: number;
  /** Pairs of runs (without, with; the next pair with, without). */
  readonly rounds: number;
}

/** One measured number without and with a console (medians over the rounds). */
export interface ConsoleImpactRow {
  readonly metric: string;
  readonly without: number;
  readonly with: number;
}

/** Result of the scenario: the rows, every run, and the consoles' traffic. */
export interface ConsoleImpact {
  readonly rows: ConsoleImpactRow[];
  readonly runs: PhaseResult[];
  readonly traffic: ConsoleTraffic[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * The `connect` and `fanout` scenarios on the Syncline server, each run
 * without and with one operator console open (signed in, subscribed to the
 * overview, polling its pages), alternating in the same run (without, with;
 * then with, without), so the two are compared on the same machine state.
 */
export async function runConsoleImpact(o: ConsoleImpactOptions, options: RunOptions): Promise<ConsoleImpact> {
  const runs: PhaseResult[] = [];
  const traffic: ConsoleTraffic[] = [];
  const tagged: Array<{ console: boolean; rows: PhaseResult[] }> = [];
  const base: RunOptions = { ...options, targets: ['syncline'] };
  for (let round = 0; round < Math.max(1, o.rounds); round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const withConsole of order) {
      const opts: RunOptions = withConsole ? { ...base, console: traffic } : base;
      options.log(`console impact, round ${round + 1}, ${withConsole ? 'with' : 'without'} a console`);
      const rows = [
        ...(await runConnect(o.connections, opts)),
        ...(await runFanout(
          { subscribers: o.subscribers, burst: o.burst, ratePerSec: o.ratePerSec, seconds: o.seconds, window: 64 },
          opts,
        )),
      ];
      runs.push(...rows.map((r) => ({ ...r, extra: { ...r.extra, console: withConsole ? 'yes' : 'no' } })));
      tagged.push({ console: withConsole, rows });
    }
  }
  const pick = (withConsole: boolean, scenario: string, f: (r: PhaseResult) => number): number =>
    median(
      tagged
        .filter((t) => t.console === withConsole)
        .flatMap((t) => t.rows.filter((r) => r.scenario === scenario))
        .map(f),
    );
  const row = (metric: string, scenario: string, f: (r: PhaseResult) => number): ConsoleImpactRow => ({
    metric,
    without: pick(false, scenario, f),
    with: pick(true, scenario, f),
  });
  const extra = (k: string) => (r: PhaseResult) => Number(r.extra[k]);
  const rows = [
    row('connect: connections/s', 'connect', extra('connections/s')),
    row('connect: server CPU µs/connection', 'connect', extra('server CPU µs/connection')),
    row('fan-out paced: server CPU µs/delivery', 'fanout paced', (r) => r.cpuUsPerDelivery),
    row('fan-out paced: p99 ms', 'fanout paced', (r) => r.latencyMs.p99),
    row('fan-out burst: server CPU µs/delivery', 'fanout burst', (r) => r.cpuUsPerDelivery),
    row('fan-out burst: p99 ms', 'fanout burst', (r) => r.latencyMs.p99),
    row('fan-out burst: deliveries/s', 'fanout burst', (r) => r.deliveriesPerSec),
  ];
  return { rows, runs, traffic };
}

/** The scenario's table: each number without and with a console, their ratio, and the console's own traffic. */
export function consoleImpactTable(r: ConsoleImpact, o: ConsoleImpactOptions): string {
  const fmt = (n: number): string =>
    Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: n < 100 ? 2 : 0 }) : 'n/a';
  const requests = r.traffic.reduce((a, t) => a + t.requests, 0);
  const opening = r.traffic.reduce((a, t) => a + t.openingRequests, 0);
  const polling = r.traffic.reduce((a, t) => a + t.pollingMs, 0) / 1000;
  const failures = r.traffic.reduce((a, t) => a + t.failures, 0);
  const frames = r.traffic.reduce((a, t) => a + t.frames, 0);
  const seconds = r.traffic.reduce((a, t) => a + t.openMs, 0) / 1000;
  return [
    `### Console impact — Syncline, ${o.connections.toLocaleString('en')} connections; fan-out to ${o.subscribers.toLocaleString('en')} subscribers (${o.ratePerSec}/s for ${o.seconds} s, then ${o.burst} as fast as acknowledged); ${o.rounds} round(s) without and with one console open`,
    '',
    '| metric | without console | with console | with / without |',
    '|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.metric} | ${fmt(x.without)} | ${fmt(x.with)} | ${x.without > 0 && x.with > 0 ? `${(x.with / x.without).toFixed(2)}×` : 'n/a'} |`,
    ),
    '',
    `The console's own traffic: ${requests} HTTP requests in ${fmt(seconds)} s open (${fmt(requests / Math.max(seconds, 1e-3))} requests/s; ${opening} of them at sign-in, then ${fmt((requests - opening) / Math.max(polling, 1e-3))}/s polling; ${failures} failed), ${frames} frames on its Syncline connection (${fmt(frames / Math.max(seconds, 1e-3))}/s).`,
  ].join('\n');
}
