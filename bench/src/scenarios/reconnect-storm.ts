import { nowMs, sleep } from '../clock.js';
import { Rig, type RunOptions } from '../harness.js';
import type { OpenResult } from '../loadgen-main.js';
import type { PhaseResult } from '../results.js';
import type { PublishedCounts } from '../tracker.js';

/** Sizes of the reconnect storm. */
export interface StormOptions {
  readonly subscribers: number;
  /** Publications made while every client is away. */
  readonly missed: number;
}

const CHANNEL = 'bench:storm';
const PUBLISHER = 2_000_000;

/**
 * Every subscriber is dropped at once (TCP terminated, no close handshake),
 * `missed` publications are made while they are away, then all reconnect at
 * once and resubscribe from their last position. Measures the time until
 * every subscription has every publication, and checks none is lost or
 * duplicated. Peers recover with their own mechanism: Syncline's history,
 * Socket.IO's connection state recovery, the ws peer's in-memory ring.
 */
export async function runStorm(o: StormOptions, options: RunOptions): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const target of options.targets) {
    options.log(`reconnect-storm ${o.subscribers}: ${target}`);
    const rig = await Rig.start(target, options, { recovery: true });
    try {
      const opened = await rig.open(o.subscribers, { kind: 'one', channel: CHANNEL }, options);
      if (opened.failed > 0) throw new Error(`${opened.failed} connections failed: ${opened.error}`);
      await rig.openPublisher();
      let count = 10;
      const expect = (): PublishedCounts => ({ [CHANNEL]: { [PUBLISHER]: count } });
      const warm = rig.waitComplete(expect(), 60_000);
      await rig.publish({ channel: CHANNEL, publisher: PUBLISHER, count: 10, mode: 'burst', window: 1 });
      if ((await warm) === undefined) throw new Error('warm-up publications did not arrive');

      await Promise.all(rig.gens.map((g) => g.call('drop')));
      const deadline = nowMs() + 30_000;
      while ((await rig.stats()).connections > 1 && nowMs() < deadline) await sleep(50);
      count += o.missed;
      await rig.publish({ channel: CHANNEL, publisher: PUBLISHER, count: o.missed, mode: 'burst', window: 16 });

      await rig.mark();
      const done = rig.waitComplete(expect(), 120_000);
      const start = nowMs();
      const reopened = await Promise.all(
        rig.gens.map((g) => g.call<OpenResult>('reopen', { concurrency: 250 }, 300_000)),
      );
      const doneAt = await done;
      const failed = reopened.reduce((a, r) => a + r.failed, 0);
      out.push(
        await rig.result(
          'reconnect-storm',
          `${o.subscribers} subscribers dropped at once, ${o.missed} publications missed each`,
          expect(),
          start,
          doneAt,
          {
            'recovered in ms': doneAt === undefined ? Number.NaN : doneAt - start,
            'reconnect failures': failed,
          },
        ),
      );
    } finally {
      await rig.stop();
    }
  }
  return out;
}
