import { cpus } from 'node:os';
import { isSyncline, type Target } from './clients/bench-conn.js';
import { Histogram, type HistogramData } from './histogram.js';

/** One target's numbers for one scenario phase. */
export interface PhaseResult {
  readonly scenario: string;
  /** Sizes of the phase, human-readable. */
  readonly params: string;
  readonly target: Target;
  readonly deliveries: number;
  readonly durationMs: number;
  readonly deliveriesPerSec: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** Server CPU (user + system) per delivery, µs. */
  readonly cpuUsPerDelivery: number;
  /**
   * WebSocket payload bytes received by the load generators per delivery:
   * every frame they received during the phase (publications, replies,
   * acknowledgements, pings; no frame headers) over the deliveries.
   */
  readonly bytesPerDelivery: number;
  /** Server event-loop delay during the phase, ms. */
  readonly loopDelayMs: { readonly p99: number; readonly max: number };
  readonly rssMB: number;
  readonly heapMB: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly unexpected: number;
  /** Every expected delivery arrived exactly once. */
  readonly exactlyOnce: boolean;
  /** CPU of the load generators per delivery, µs (to see whether they were the limit). */
  readonly generatorCpuUsPerDelivery: number;
  /** Scenario-specific numbers (connections/s, bytes per connection, recovery time…). */
  readonly extra: Readonly<Record<string, number | string>>;
}

/** Latency quantiles (ms) of merged histograms. */
export function latencyOf(parts: readonly HistogramData[]): PhaseResult['latencyMs'] {
  const h = new Histogram();
  for (const p of parts) h.merge(p);
  const ms = (us: number): number => Math.round(us) / 1000;
  return { p50: ms(h.quantile(0.5)), p99: ms(h.quantile(0.99)), p999: ms(h.quantile(0.999)), max: ms(h.quantile(1)) };
}

/** The machine the run happened on. */
export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, ${process.platform}`;
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

const ratio = (a: number, b: number): string => (b > 0 && a > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** Markdown table of one scenario phase, with Syncline/peer ratios. */
export function phaseTable(rows: readonly PhaseResult[]): string {
  const first = rows[0];
  if (!first) return '';
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra)))];
  const head = [
    'target',
    'deliveries/s',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'server CPU µs/delivery',
    'bytes/delivery',
    'loop delay p99/max ms',
    'RSS MB',
    'heap MB',
    'lost',
    'dup',
    'exactly once',
    'gen CPU µs/delivery',
    ...extraKeys,
  ];
  const lines = [
    `### ${first.scenario} — ${first.params}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.target,
        fmt(r.deliveriesPerSec),
        fmt(r.latencyMs.p50, 2),
        fmt(r.latencyMs.p99, 2),
        fmt(r.latencyMs.p999, 2),
        fmt(r.cpuUsPerDelivery, 2),
        fmt(r.bytesPerDelivery, 1),
        `${fmt(r.loopDelayMs.p99, 1)} / ${fmt(r.loopDelayMs.max, 1)}`,
        fmt(r.rssMB, 1),
        fmt(r.heapMB, 1),
        fmt(r.lost),
        fmt(r.duplicates),
        r.exactlyOnce ? 'yes' : '**NO**',
        fmt(r.generatorCpuUsPerDelivery, 2),
        ...extraKeys.map((k) => {
          const v = r.extra[k];
          return typeof v === 'number' ? fmt(v, v < 100 ? 2 : 0) : (v ?? '');
        }),
      ].join(' | ')} |`,
    );
  }
  const ratioRow = (label: string, s: PhaseResult, peer: PhaseResult): string => {
    const cells = [
      label,
      ratio(s.deliveriesPerSec, peer.deliveriesPerSec),
      ratio(s.latencyMs.p50, peer.latencyMs.p50),
      ratio(s.latencyMs.p99, peer.latencyMs.p99),
      ratio(s.latencyMs.p999, peer.latencyMs.p999),
      ratio(s.cpuUsPerDelivery, peer.cpuUsPerDelivery),
      ratio(s.bytesPerDelivery, peer.bytesPerDelivery),
      '',
      ratio(s.rssMB, peer.rssMB),
      ratio(s.heapMB, peer.heapMB),
      '',
      '',
      '',
      '',
      ...extraKeys.map((k) => {
        const a = s.extra[k];
        const b = peer.extra[k];
        return typeof a === 'number' && typeof b === 'number' ? ratio(a, b) : '';
      }),
    ];
    return `| ${cells.join(' | ')} |`;
  };
  const json = rows.find((r) => r.target === 'syncline');
  const msgpack = rows.find((r) => r.target === 'syncline-msgpack');
  // Syncline against the peers: the JSON client when it ran, else the MessagePack one.
  const s = json ?? msgpack;
  if (s) {
    const name = s === json ? 'Syncline' : 'Syncline msgpack';
    for (const peer of rows.filter((r) => !isSyncline(r.target))) {
      lines.push(ratioRow(`${name} / ${peer.target}`, s, peer));
    }
  }
  if (json && msgpack) lines.push(ratioRow('Syncline msgpack / Syncline json', msgpack, json));
  return lines.join('\n');
}

/** Median of the finite values (NaN when there is none). */
export const median = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

/**
 * Combines repeated runs of one phase and target: the median of every
 * number, the sum of losses and duplicates, exactly-once only if every run
 * was.
 */
export function combineRuns(runs: readonly PhaseResult[]): PhaseResult {
  const first = runs[0];
  if (!first) throw new Error('no runs');
  if (runs.length === 1) return first;
  const m = (f: (r: PhaseResult) => number): number => median(runs.map(f));
  const sum = (f: (r: PhaseResult) => number): number => runs.reduce((a, r) => a + f(r), 0);
  const extra: Record<string, number | string> = {};
  for (const k of Object.keys(first.extra)) {
    const v = first.extra[k];
    extra[k] = typeof v === 'number' ? m((r) => Number(r.extra[k])) : (v ?? '');
  }
  return {
    ...first,
    deliveries: m((r) => r.deliveries),
    durationMs: m((r) => r.durationMs),
    deliveriesPerSec: m((r) => r.deliveriesPerSec),
    latencyMs: {
      p50: m((r) => r.latencyMs.p50),
      p99: m((r) => r.latencyMs.p99),
      p999: m((r) => r.latencyMs.p999),
      max: m((r) => r.latencyMs.max),
    },
    cpuUsPerDelivery: m((r) => r.cpuUsPerDelivery),
    bytesPerDelivery: m((r) => r.bytesPerDelivery),
    loopDelayMs: { p99: m((r) => r.loopDelayMs.p99), max: m((r) => r.loopDelayMs.max) },
    rssMB: m((r) => r.rssMB),
    heapMB: m((r) => r.heapMB),
    lost: sum((r) => r.lost),
    duplicates: sum((r) => r.duplicates),
    unexpected: sum((r) => r.unexpected),
    exactlyOnce: runs.every((r) => r.exactlyOnce),
    generatorCpuUsPerDelivery: m((r) => r.generatorCpuUsPerDelivery),
    extra,
  };
}
