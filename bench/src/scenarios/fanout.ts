import { nowMs } from '../clock.js';
import { Rig, type RunOptions } from '../harness.js';
import type { PhaseResult } from '../results.js';
import type { PublishedCounts } from '../tracker.js';

/** Sizes of the fan-out scenario. */
export interface FanoutOptions {
  readonly subscribers: number;
  /** Publications of the burst phase. */
  readonly burst: number;
  /** Paced phase: publications per second and duration. */
  readonly ratePerSec: number;
  readonly seconds: number;
  /** Publications in flight in the burst phase. */
  readonly window: number;
}

const CHANNEL = 'bench:fanout';
const PUBLISHER = 1_000_000;

/**
 * N subscribers on one channel, one publisher in its own process. Paced phase
 * (`ratePerSec` for `seconds`), then a burst phase (`burst` publications, as
 * fast as the server acknowledges with `window` in flight).
 */
export async function runFanout(o: FanoutOptions, options: RunOptions): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const target of options.targets) {
    options.log(`fanout ${o.subscribers}: ${target}`);
    const rig = await Rig.start(target, options);
    try {
      const opened = await rig.open(o.subscribers, { kind: 'one', channel: CHANNEL }, options);
      if (opened.failed > 0) throw new Error(`${opened.failed} connections failed: ${opened.error}`);
      await rig.openPublisher();
      let count = 0;
      const expect = (): PublishedCounts => ({ [CHANNEL]: { [PUBLISHER]: count } });

      const paced = Math.max(1, Math.round(o.ratePerSec * o.seconds));
      count += paced;
      await rig.mark();
      const pacedDone = rig.waitComplete(expect(), 60_000 + o.seconds * 1000);
      const p1 = await rig.publish({
        channel: CHANNEL,
        publisher: PUBLISHER,
        count: paced,
        mode: 'paced',
        ratePerSec: o.ratePerSec,
      });
      const pacedAt = await pacedDone;
      out.push(
        await rig.result(
          'fanout paced',
          `${o.subscribers} subscribers, ${o.ratePerSec} publications/s for ${o.seconds} s`,
          expect(),
          p1.startAt,
          pacedAt,
        ),
      );

      count += o.burst;
      await rig.mark();
      const burstDone = rig.waitComplete(expect(), 120_000);
      const start = nowMs();
      await rig.publish({ channel: CHANNEL, publisher: PUBLISHER, count: o.burst, mode: 'burst', window: o.window });
      const burstAt = await burstDone;
      out.push(
        await rig.result(
          'fanout burst',
          `${o.subscribers} subscribers, ${o.burst} publications as fast as acknowledged (${o.window} in flight)`,
          expect(),
          start,
          burstAt,
        ),
      );
    } finally {
      await rig.stop();
    }
  }
  return out;
}
