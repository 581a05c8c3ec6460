import { nowMs } from '../clock.js';
import { Rig, type RunOptions } from '../harness.js';
import { median, type PhaseResult } from '../results.js';
import type { PublishedCounts } from '../tracker.js';
import { type ReceiverReport, WebhookReceiver } from '../webhook-receiver.js';

/** Sizes of the webhook scenario. */
export interface WebhookBenchOptions {
  readonly subscribers: number;
  /** Paced phase: publications per second and duration. */
  readonly ratePerSec: number;
  readonly seconds: number;
  /** Publications of the burst phase, `window` in flight. */
  readonly burst: number;
  readonly window: number;
  /** Runs per mode; the modes take turns and each number is the median. */
  readonly repeat: number;
}

/** With or without the `publication` webhook. */
export type WebhookMode = 'none' | 'webhook';

/** One mode's numbers in one phase. */
export interface WebhookRow {
  readonly mode: WebhookMode;
  readonly phase: 'paced' | 'burst';
  readonly publications: number;
  /** Publications over the time until every subscriber had every one. */
  readonly publicationsPerSec: number;
  /** Server CPU (user + system) from the phase's start until the receiver had every event, per publication, µs. */
  readonly cpuUsPerPublication: number;
  /** Publish to arrival at each subscriber, ms. */
  readonly deliveryMs: { readonly p50: number; readonly p99: number };
  /** Every subscriber got every publication once, and the receiver every event. */
  readonly complete: boolean;
  /** What the receiver saw (webhook mode). */
  readonly receiver: ReceiverReport | undefined;
}

const CHANNEL = 'bench:webhook';
const PUBLISHER = 1_000_000;
/** Publications before the measured phases (the receiver's connection is open, SQLite warm). */
const WARMUP = 20;
/** Longest wait for the receiver to get a phase's events after the subscribers got them. */
const RECEIVER_WAIT_MS = 60_000;

function rowOf(
  mode: WebhookMode,
  phase: WebhookRow['phase'],
  n: number,
  r: PhaseResult,
  receiver: ReceiverReport | undefined,
): WebhookRow {
  return {
    mode,
    phase,
    publications: n,
    publicationsPerSec: n / (r.durationMs / 1000),
    cpuUsPerPublication: (r.cpuUsPerDelivery * r.deliveries) / n,
    deliveryMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 },
    complete: r.exactlyOnce && (receiver === undefined || (receiver.events === n && receiver.duplicates === 0)),
    receiver,
  };
}

/** One mode's run: a fresh server (and receiver), the paced phase, then the burst phase. */
async function runMode(mode: WebhookMode, o: WebhookBenchOptions, options: RunOptions): Promise<WebhookRow[]> {
  const receiver = mode === 'webhook' ? await WebhookReceiver.start() : undefined;
  const rig = await Rig.start('syncline', options, receiver ? { webhookUrl: receiver.url } : {});
  const out: WebhookRow[] = [];
  try {
    const opened = await rig.open(o.subscribers, { kind: 'one', channel: CHANNEL }, options);
    if (opened.failed > 0) throw new Error(`${opened.failed} connections failed: ${opened.error}`);
    await rig.openPublisher();
    let count = WARMUP;
    const expect = (): PublishedCounts => ({ [CHANNEL]: { [PUBLISHER]: count } });
    const warm = rig.waitComplete(expect(), 60_000);
    await rig.publish({ channel: CHANNEL, publisher: PUBLISHER, count: WARMUP, mode: 'burst', window: 1 });
    if ((await warm) === undefined || !((await receiver?.waitFor(WARMUP, RECEIVER_WAIT_MS)) ?? true))
      throw new Error('the warm-up publications did not arrive');

    const phases = [
      { phase: 'paced' as const, n: Math.max(1, Math.round(o.ratePerSec * o.seconds)) },
      { phase: 'burst' as const, n: o.burst },
    ];
    for (const { phase, n } of phases) {
      count += n;
      receiver?.reset();
      await rig.mark();
      const done = rig.waitComplete(expect(), 120_000 + o.seconds * 1000);
      const start = nowMs();
      await rig.publish(
        phase === 'paced'
          ? { channel: CHANNEL, publisher: PUBLISHER, count: n, mode: 'paced', ratePerSec: o.ratePerSec }
          : { channel: CHANNEL, publisher: PUBLISHER, count: n, mode: 'burst', window: o.window },
      );
      const doneAt = await done;
      // The server's CPU is read once the receiver has every event: the webhook's whole cost is in it.
      if (receiver && !(await receiver.waitFor(n, RECEIVER_WAIT_MS))) options.log(`webhook ${phase}: events missing`);
      const r = await rig.result(`webhook ${phase}`, mode, expect(), start, doneAt);
      out.push(rowOf(mode, phase, n, r, receiver?.report()));
    }
  } finally {
    await rig.stop();
    await receiver?.close();
  }
  return out;
}

/**
 * What a `publication` webhook costs on a busy channel: N subscribers on one
 * channel of the embedded server (history in SQLite, as `npm start`), a
 * paced phase then a burst, first without webhooks, then with a
 * `publication` webhook to a receiver on loopback that answers 204 at once;
 * the modes take turns `repeat` times. Returns the medians per mode and
 * phase, and every run. Syncline's JSON client only.
 */
export async function runWebhook(
  o: WebhookBenchOptions,
  options: RunOptions,
): Promise<{ rows: WebhookRow[]; runs: WebhookRow[] }> {
  const rows: WebhookRow[] = [];
  for (let round = 0; round < o.repeat; round++) {
    for (const mode of ['none', 'webhook'] as const) {
      options.log(
        `webhook: ${mode === 'none' ? 'no webhook' : 'publication webhook'}, run ${round + 1} of ${o.repeat}`,
      );
      rows.push(...(await runMode(mode, o, options)));
    }
  }
  return { rows: combine(rows), runs: rows };
}

/** Medians per mode and phase over the runs (complete only if every run was). */
function combine(rows: readonly WebhookRow[]): WebhookRow[] {
  const out: WebhookRow[] = [];
  for (const phase of ['paced', 'burst'] as const) {
    for (const mode of ['none', 'webhook'] as const) {
      const rs = rows.filter((r) => r.mode === mode && r.phase === phase);
      const first = rs[0];
      if (!first) continue;
      const m = (f: (r: WebhookRow) => number): number => median(rs.map(f));
      const rcv = rs.map((r) => r.receiver).filter((x): x is ReceiverReport => x !== undefined);
      const mr = (f: (r: ReceiverReport) => number): number => median(rcv.map(f));
      out.push({
        ...first,
        publicationsPerSec: m((r) => r.publicationsPerSec),
        cpuUsPerPublication: m((r) => r.cpuUsPerPublication),
        deliveryMs: { p50: m((r) => r.deliveryMs.p50), p99: m((r) => r.deliveryMs.p99) },
        complete: rs.every((r) => r.complete),
        receiver:
          rcv.length === 0
            ? undefined
            : {
                events: mr((r) => r.events),
                duplicates: rcv.reduce((a, r) => a + r.duplicates, 0),
                requests: mr((r) => r.requests),
                lagMs: { p50: mr((r) => r.lagMs.p50), p99: mr((r) => r.lagMs.p99), max: mr((r) => r.lagMs.max) },
                batch: { mean: mr((r) => r.batch.mean), p50: mr((r) => r.batch.p50), max: mr((r) => r.batch.max) },
              },
      });
    }
  }
  return out;
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const ratio = (a: number, b: number): string => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** Markdown tables of the scenario (paced, burst), each with the ratio webhook / no webhook. */
export function webhookTables(rows: readonly WebhookRow[], o: WebhookBenchOptions): string[] {
  const head = [
    'publication webhook',
    'publications/s',
    'server CPU µs/publication',
    'delivery p50 ms',
    'delivery p99 ms',
    'webhook lag p50 ms',
    'webhook lag p99 ms',
    'batch mean / p50 / max',
    'webhook requests',
    'complete',
  ];
  const title = {
    paced: `${fmt(o.subscribers)} subscribers, ${fmt(o.ratePerSec)} publications/s for ${o.seconds} s`,
    burst: `${fmt(o.subscribers)} subscribers, ${fmt(o.burst)} publications as fast as acknowledged (${o.window} in flight)`,
  };
  return (['paced', 'burst'] as const).map((phase) => {
    const lines = [
      `### webhook ${phase} — ${title[phase]}; embedded SQLite history, receiver on loopback answering 204`,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
    ];
    const base = rows.find((r) => r.phase === phase && r.mode === 'none');
    const hook = rows.find((r) => r.phase === phase && r.mode === 'webhook');
    for (const r of [base, hook]) {
      if (!r) continue;
      const w = r.receiver;
      lines.push(
        `| ${[
          r.mode === 'none' ? 'none' : 'publication → 127.0.0.1',
          fmt(r.publicationsPerSec),
          fmt(r.cpuUsPerPublication, 1),
          fmt(r.deliveryMs.p50, 2),
          fmt(r.deliveryMs.p99, 2),
          w ? fmt(w.lagMs.p50, 2) : '',
          w ? fmt(w.lagMs.p99, 2) : '',
          w ? `${fmt(w.batch.mean, 1)} / ${fmt(w.batch.p50)} / ${fmt(w.batch.max)}` : '',
          w ? fmt(w.requests) : '',
          r.complete ? 'yes' : '**NO**',
        ].join(' | ')} |`,
      );
    }
    if (base && hook) {
      lines.push(
        `| webhook / none | ${[
          ratio(hook.publicationsPerSec, base.publicationsPerSec),
          ratio(hook.cpuUsPerPublication, base.cpuUsPerPublication),
          ratio(hook.deliveryMs.p50, base.deliveryMs.p50),
          ratio(hook.deliveryMs.p99, base.deliveryMs.p99),
          '',
          '',
          '',
          '',
          '',
        ].join(' | ')} |`,
      );
    }
    return lines.join('\n');
  });
}
