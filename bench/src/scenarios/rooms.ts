import { mergePublished, Rig, type RunOptions } from '../harness.js';
import type { PublishResult } from '../loadgen-main.js';
import type { PhaseResult } from '../results.js';

/** Sizes of the rooms scenario. */
export interface RoomsOptions {
  readonly rooms: number;
  readonly members: number;
  /** Each member publishes once per interval. */
  readonly intervalMs: number;
  readonly seconds: number;
}

/**
 * Chat-like load: many small rooms, every member subscribed to its room and
 * publishing to it periodically (each publication reaches every member,
 * the publisher included).
 */
export async function runRooms(o: RoomsOptions, options: RunOptions): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  const total = o.rooms * o.members;
  for (const target of options.targets) {
    options.log(`rooms ${o.rooms}×${o.members}: ${target}`);
    const rig = await Rig.start(target, options);
    try {
      const opened = await rig.open(total, { kind: 'rooms', prefix: 'bench:room-', size: o.members }, options);
      if (opened.failed > 0) throw new Error(`${opened.failed} connections failed: ${opened.error}`);
      await rig.mark();
      const parts = await Promise.all(
        rig.gens.map((g) =>
          g.call<PublishResult>(
            'chat',
            { durationMs: o.seconds * 1000, intervalMs: o.intervalMs },
            o.seconds * 1000 + 120_000,
          ),
        ),
      );
      const published = mergePublished(parts.map((p) => p.published));
      const startAt = Math.min(...parts.map((p) => p.startAt));
      const doneAt = await rig.waitComplete(published, 60_000);
      let pubs = 0;
      for (const byPub of Object.values(published)) for (const c of Object.values(byPub)) pubs += c;
      out.push(
        await rig.result(
          'rooms',
          `${o.rooms} rooms × ${o.members} members, each publishing every ${o.intervalMs} ms for ${o.seconds} s`,
          published,
          startAt,
          doneAt,
          { 'publications/s': pubs / o.seconds },
        ),
      );
    } finally {
      await rig.stop();
    }
  }
  return out;
}
