import { isSyncline, type Target } from '../clients/bench-conn.js';
import { Rig, type RunOptions } from '../harness.js';
import type { MutateResult, OpenResult } from '../loadgen-main.js';
import { latencyOf, type PhaseResult } from '../results.js';
import type { PublishedCounts } from '../tracker.js';

/** Sizes of the documents scenario. */
export interface DocsOptions {
  readonly clients: number;
  readonly docs: number;
  /** Paced phase: mutations per second over all clients. */
  readonly ratePerSec: number;
  readonly seconds: number;
  /** Burst phase: mutations in flight per client. */
  readonly window: number;
}

function merge(parts: readonly MutateResult[]): PublishedCounts {
  const out: PublishedCounts = {};
  for (const p of parts) {
    for (const [doc, v] of Object.entries(p.versions)) {
      const cur = out[doc]?.[0] ?? 0;
      out[doc] = { 0: Math.max(cur, v[0] ?? 0) };
    }
  }
  return out;
}

/**
 * Syncline only (the peers have no documents), once per Syncline target
 * (JSON and MessagePack clients): `clients` connections, each
 * subscribed to one of `docs` documents and mutating it. A paced phase
 * (`ratePerSec` in total) measures acknowledgement latency; a burst phase
 * (`window` mutations in flight per client) measures durable mutations per
 * second (one SQLite commit per mutation). Every patch must reach every
 * subscriber of its document once, in version order.
 */
export async function runDocs(o: DocsOptions, options: RunOptions): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const target of options.targets.filter(isSyncline)) out.push(...(await runDocsOn(target, o, options)));
  return out;
}

/** The documents scenario on one Syncline target (JSON or MessagePack clients). */
async function runDocsOn(target: Target, o: DocsOptions, options: RunOptions): Promise<PhaseResult[]> {
  options.log(`docs ${o.clients} clients on ${o.docs} documents: ${target}`);
  const rig = await Rig.start(target, options);
  const out: PhaseResult[] = [];
  try {
    const n = options.generators > 0 ? options.generators : Math.max(1, Math.min(3, Math.ceil(o.clients / 2500)));
    const per = Math.ceil(o.clients / n);
    rig.spawn(n);
    const results = await Promise.all(
      rig.gens.map((g, i) =>
        g.call<OpenResult>(
          'openDocs',
          { from: i * per, count: Math.min(per, o.clients - i * per), docs: o.docs, concurrency: 100 },
          300_000,
        ),
      ),
    );
    const failed = results.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} document clients failed: ${results.find((r) => r.error)?.error}`);

    const phase = async (
      name: string,
      params: string,
      run: { durationMs: number; intervalMs: number; window: number },
    ) => {
      await rig.mark();
      const parts = await Promise.all(
        rig.gens.map((g) => g.call<MutateResult>('mutateRun', run, run.durationMs + 120_000)),
      );
      const published = merge(parts);
      const doneAt = await rig.waitComplete(published, 60_000);
      const acked = parts.reduce((a, p) => a + p.acked, 0);
      const startAt = Math.min(...parts.map((p) => p.startAt));
      const endAt = Math.max(...parts.map((p) => p.endAt));
      const acks = latencyOf(parts.map((p) => p.acks));
      const r = await rig.result(name, params, published, startAt, doneAt, {
        'mutations/s': (acked / (endAt - startAt)) * 1000,
        'ack p50 ms': acks.p50,
        'ack p99 ms': acks.p99,
        'ack p99.9 ms': acks.p999,
        'failed mutations': parts.reduce((a, p) => a + p.failed, 0),
      });
      out.push(r);
    };
    const perClientMs = (o.clients / o.ratePerSec) * 1000;
    await phase(
      'docs paced',
      `${o.clients} clients on ${o.docs} documents, ${o.ratePerSec} mutations/s in total for ${o.seconds} s`,
      {
        durationMs: o.seconds * 1000,
        intervalMs: perClientMs,
        window: 1,
      },
    );
    await phase(
      'docs burst',
      `${o.clients} clients on ${o.docs} documents, ${o.window} mutations in flight per client for ${o.seconds} s`,
      {
        durationMs: o.seconds * 1000,
        intervalMs: 0,
        window: o.window,
      },
    );
  } finally {
    await rig.stop();
  }
  return out;
}
